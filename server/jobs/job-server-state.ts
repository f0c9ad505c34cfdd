/**
 * Whether the job server of a collection root hands out work: jobCollection's started and
 * stopped states (docs/PROTOCOL.md §2.1). `startJobServer` and `shutdownJobServer` change it;
 * the scheduler and the waiting getWork calls follow it through `onChange`, so no operation
 * has to know who else cares.
 */
export class JobServerState {
  #stopped: boolean;
  #shutdownTimer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<(stopped: boolean) => void>();

  constructor(stopped = false) {
    this.#stopped = stopped;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** A shutdown's deadline is pending: running jobs will be failed when it passes. */
  get shutdownPending(): boolean {
    return this.#shutdownTimer !== undefined;
  }

  /** Hands out work again and cancels a pending shutdown deadline. */
  start(): void {
    this.#clearDeadline();
    this.#set(false);
  }

  /**
   * Stops handing out work at once; `atDeadline` runs after `deadlineMs` unless the server is
   * started again first. A second shutdown replaces the first one's deadline.
   */
  shutdown(deadlineMs: number, atDeadline: () => void): void {
    this.#clearDeadline();
    const timer = setTimeout(() => {
      this.#shutdownTimer = undefined;
      atDeadline();
    }, deadlineMs);
    // A pending deadline must not keep the process alive.
    timer.unref();
    this.#shutdownTimer = timer;
    this.#set(true);
  }

  /** Called with the new state whenever `start` or `shutdown` runs. Answers the unsubscribe. */
  onChange(listener: (stopped: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drops a pending deadline: the server is closing, its next start sweeps what was running. */
  dispose(): void {
    this.#clearDeadline();
    this.#listeners.clear();
  }

  #set(stopped: boolean): void {
    this.#stopped = stopped;
    for (const listener of [...this.#listeners]) listener(stopped);
  }

  #clearDeadline(): void {
    clearTimeout(this.#shutdownTimer);
    this.#shutdownTimer = undefined;
  }
}
