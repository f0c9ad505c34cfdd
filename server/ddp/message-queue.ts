/**
 * A connection's inbound queue (docs/PROTOCOL.md §1.5): one message at a time, in arrival order. The
 * next starts when the current one settles or calls `unblock()`, whichever comes first.
 */
export type Unblock = () => void;
export type QueueWorker<T> = (item: T, unblock: Unblock) => Promise<void>;

export class MessageQueue<T> {
  readonly #items: T[] = [];
  #blocked = false;
  #pumping = false;
  #stopped = false;

  readonly #worker: QueueWorker<T>;
  readonly #onError: (error: unknown) => void;

  constructor(
    worker: QueueWorker<T>,
    onError: (error: unknown) => void,
  ) {
    this.#worker = worker;
    this.#onError = onError;
  }

  push(item: T): void {
    if (this.#stopped) return;
    this.#items.push(item);
    this.#pump();
  }

  /** Drops what has not started and never starts anything again; running work finishes on its own. */
  stop(): void {
    this.#stopped = true;
    this.#items.length = 0;
  }

  #pump(): void {
    // A loop rather than recursion: handlers that unblock synchronously must not grow the stack.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#blocked && !this.#stopped && this.#items.length > 0) {
        this.#startNext(this.#items.shift() as T);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #startNext(item: T): void {
    this.#blocked = true;
    let released = false;
    const unblock: Unblock = () => {
      if (released) return;
      released = true;
      this.#blocked = false;
      this.#pump();
    };
    let running: Promise<void>;
    try {
      running = this.#worker(item, unblock);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(unblock, (error: unknown) => {
      this.#onError(error);
      unblock();
    });
  }
}
