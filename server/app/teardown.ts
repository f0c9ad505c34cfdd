/**
 * The steps that undo a start-up, run last-in-first-out: each step is registered as soon as
 * what it closes has been opened, so a failure at any point of the start closes exactly what
 * was opened before it, and a normal stop closes everything in the reverse order of opening.
 */
export class Teardown {
  readonly #steps: { name: string; run: () => void | Promise<void> }[] = [];

  /** Registers how to undo what was just opened. */
  add(name: string, run: () => void | Promise<void>): void {
    this.#steps.push({ name, run });
  }

  /**
   * Runs every registered step, newest first, each once. A step that fails does not stop the
   * others; the failures are thrown together at the end.
   */
  async run(): Promise<void> {
    const errors: Error[] = [];
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        await step.run();
      } catch (error) {
        errors.push(new Error(`closing ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} shutdown steps failed`);
  }
}
