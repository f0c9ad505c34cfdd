/** A tiny typed listener set: `add` answers the function that removes the listener again. */
export class Listeners<Args extends unknown[]> {
  readonly #set = new Set<(...args: Args) => void>();

  add(listener: (...args: Args) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  /** Calls every listener; one that throws does not stop the others (its error is reported). */
  emit(onError: (error: unknown) => void, ...args: Args): void {
    for (const listener of [...this.#set]) {
      try {
        listener(...args);
      } catch (error) {
        onError(error);
      }
    }
  }

  get size(): number {
    return this.#set.size;
  }

  clear(): void {
    this.#set.clear();
  }
}
