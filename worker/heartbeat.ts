/**
 * The client half of DDP heartbeats. A server that vanished without closing the socket (a
 * pulled cable, a frozen VM) would otherwise leave every pending call, and with it a worker's
 * queue, waiting forever (meteor-job-collection #203).
 */
export interface HeartbeatHooks {
  ping(id: string): void;
  /** Two silent periods in a row: give up on the socket. */
  dead(): void;
}

export class Heartbeat {
  #timer: NodeJS.Timeout | undefined;
  #heard = true;
  #pinged = false;
  #count = 0;
  readonly #intervalMs: number;
  readonly #hooks: HeartbeatHooks;

  constructor(intervalMs: number, hooks: HeartbeatHooks) {
    this.#intervalMs = intervalMs;
    this.#hooks = hooks;
  }

  start(): void {
    this.stop();
    if (this.#intervalMs <= 0) return;
    this.#heard = true;
    this.#pinged = false;
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    // A heartbeat alone must not keep a process alive.
    this.#timer.unref();
  }

  /** Any message from the server is a sign of life. */
  heardFrom(): void {
    this.#heard = true;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (this.#heard) {
      this.#heard = false;
      this.#pinged = false;
      return;
    }
    if (this.#pinged) {
      this.stop();
      this.#hooks.dead();
      return;
    }
    this.#pinged = true;
    this.#count += 1;
    this.#hooks.ping(`hb${this.#count}`);
  }
}
