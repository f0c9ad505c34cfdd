/** Holds worker calls until the test lets them go, counting how many are in flight. */
export class Gate {
  inFlight = 0;
  maxInFlight = 0;
  started = 0;
  readonly #waiting: (() => void)[] = [];

  /** Enter and wait for `open()` (or `openOne()`). */
  async pass(): Promise<void> {
    this.inFlight += 1;
    this.started += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.inFlight -= 1;
  }

  get held(): number {
    return this.#waiting.length;
  }

  /** Lets every waiting call go. */
  open(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  /** Lets the call that has waited longest go. */
  openOne(): void {
    this.#waiting.shift()?.();
  }
}
