/**
 * The server side of DDP heartbeats, as Meteor's `ddp-common/heartbeat.js` (docs/PROTOCOL.md §1.4):
 * ping only after a whole interval of silence, and give up when that ping goes unanswered.
 */
export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
  sendPing: () => void;
  onTimeout: () => void;
}

export class Heartbeat {
  #intervalTimer: NodeJS.Timeout | undefined;
  #timeoutTimer: NodeJS.Timeout | undefined;
  #seenPacket = false;

  readonly #options: HeartbeatOptions;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  start(): void {
    this.stop();
    // Unref'd: a heartbeat alone must never keep the process alive.
    this.#intervalTimer = setInterval(() => this.#tick(), this.#options.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.#intervalTimer);
    this.#intervalTimer = undefined;
    this.#clearTimeoutTimer();
  }

  /** Any incoming message proves the peer is alive, so it also answers an outstanding ping. */
  messageReceived(): void {
    this.#seenPacket = true;
    this.#clearTimeoutTimer();
  }

  #tick(): void {
    if (!this.#seenPacket && this.#timeoutTimer === undefined) {
      this.#options.sendPing();
      this.#timeoutTimer = setTimeout(() => {
        this.#timeoutTimer = undefined;
        this.#options.onTimeout();
      }, this.#options.timeoutMs).unref();
    }
    this.#seenPacket = false;
  }

  #clearTimeoutTimer(): void {
    clearTimeout(this.#timeoutTimer);
    this.#timeoutTimer = undefined;
  }
}
