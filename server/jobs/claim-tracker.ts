/**
 * Which DDP connections of one collection root are alive, and how many jobs each is running.
 * A connection that closes has its running jobs requeued once a grace period has passed
 * without the worker taking them back (`reclaimRuns` from its new connection). Jobs claimed
 * for a connection that has already closed (its getWork was still in flight) can never reach
 * their worker, so they are requeued at once. The claims of a server that is gone (a previous
 * run of this one, or another server sharing the database) are the orphan sweep's.
 */
import type { JobFeed } from '../feed/job-feed.ts';
import type { Logger } from '../logger.ts';

/**
 * Puts running jobs back in the queue when the connection that claimed them (`claimedBy`) is
 * lost; with `jobIds`, only those jobs are looked at. Answers how many were requeued.
 */
export type RequeueLostRuns = (isLost: (claim: { claimedBy: string }) => boolean, jobIds?: readonly string[]) => Promise<number>;

export interface ClaimTrackerDeps {
  /** How long the jobs of a lost connection stay claimed before they are requeued (ms). */
  graceMs: number;
  /** Where the tracker sees jobs leave `running`. */
  feed: JobFeed;
  requeue: RequeueLostRuns;
  logger: Logger;
}

export class ClaimTracker {
  readonly #deps: ClaimTrackerDeps;
  readonly #live = new Set<string>();
  readonly #owner = new Map<string, string>();
  readonly #running = new Map<string, Set<string>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #requeues = new Set<Promise<void>>();
  #unsubscribe: (() => void) | undefined;
  #stopped = false;

  constructor(deps: ClaimTrackerDeps) {
    this.#deps = deps;
  }

  /** Follows the feed to see jobs leave `running`. */
  start(): void {
    this.#unsubscribe = this.#deps.feed.subscribe('claim tracker', (changes) => {
      for (const change of changes) if (change.status !== 'running') this.#forget(change.id);
    });
  }

  connected(connectionId: string): void {
    this.#live.add(connectionId);
  }

  /** The connection closed: its jobs are requeued after the grace, unless reclaimed meanwhile. */
  closed(connectionId: string): void {
    if (!this.#live.delete(connectionId)) return;
    this.#after(this.#deps.graceMs, async () => {
      // Claims that commit after this point are caught by `bind`, which sees the connection gone.
      const jobIds = [...(this.#running.get(connectionId) ?? [])];
      if (jobIds.length === 0) return;
      await this.#requeue((claim) => claim.claimedBy === connectionId, jobIds, "requeued the running jobs of a lost worker's connection");
      // What the requeue did not take had left `running` already, or failed to be requeued
      // (then the next start's sweep takes it): nothing of the connection is kept either way.
      this.release(jobIds);
    });
  }

  isLive(connectionId: string): boolean {
    return this.#live.has(connectionId);
  }

  /** How many jobs the connection is running (claimed and not yet finished). */
  load(connectionId: string | null): number {
    return connectionId === null ? 0 : (this.#running.get(connectionId)?.size ?? 0);
  }

  /**
   * Counts the jobs as run by the connection (moving them from another one, for reclaimRuns).
   * Called inside the claiming transaction, before its commit. A connection that is no longer
   * alive never receives the answer, so its jobs are requeued right after that commit.
   */
  bind(connectionId: string, jobIds: readonly string[]): void {
    this.release(jobIds);
    if (!this.#live.has(connectionId)) {
      this.#after(0, () =>
        this.#requeue((claim) => claim.claimedBy === connectionId, jobIds, 'requeued jobs claimed for a connection that had closed'));
      return;
    }
    let jobs = this.#running.get(connectionId);
    if (jobs === undefined) {
      jobs = new Set();
      this.#running.set(connectionId, jobs);
    }
    for (const jobId of jobIds) {
      this.#owner.set(jobId, connectionId);
      jobs.add(jobId);
    }
  }

  release(jobIds: readonly string[]): void {
    for (const jobId of jobIds) this.#forget(jobId);
  }

  /** Cancels pending requeues (a restarted server sweeps their jobs) and waits for running ones. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await Promise.allSettled([...this.#requeues]);
  }

  #forget(jobId: string): void {
    const connectionId = this.#owner.get(jobId);
    if (connectionId === undefined) return;
    this.#owner.delete(jobId);
    const jobs = this.#running.get(connectionId);
    jobs?.delete(jobId);
    // A live connection's empty entry is recreated by its next claim anyway.
    if (jobs?.size === 0) this.#running.delete(connectionId);
  }

  #after(ms: number, task: () => Promise<void>): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#stopped) return;
      const running = task();
      this.#requeues.add(running);
      void running.finally(() => this.#requeues.delete(running));
    }, ms);
    // Pending requeues must not keep a process alive: a server that stops sweeps them at its next start.
    timer.unref();
    this.#timers.add(timer);
  }

  /** Never rejects: a failed requeue is logged, and the next start's sweep catches its jobs. */
  async #requeue(isLost: (claim: { claimedBy: string }) => boolean, jobIds: readonly string[] | undefined, message: string): Promise<void> {
    try {
      const requeued = await this.#deps.requeue(isLost, jobIds);
      if (requeued > 0) this.#deps.logger.warn({ requeued }, message);
    } catch (error) {
      this.#deps.logger.error({ err: error }, 'requeueing lost runs failed');
    }
  }
}
