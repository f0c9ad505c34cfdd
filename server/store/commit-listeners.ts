/**
 * The `onCommit` listeners of one store, the same for every backend: each subscription is an
 * entry of its own (the same function subscribed twice is called twice, unsubscribed once),
 * and a listener that throws is logged and does not stop the others — the commit has happened.
 */
import type { Logger } from '../logger.ts';
import type { JobChange } from './job-store.ts';

export class CommitListeners {
  readonly #entries = new Set<{ name: string; listener: (changes: readonly JobChange[]) => void }>();
  readonly #logger: Logger;
  readonly #root: string;

  constructor(root: string, logger: Logger) {
    this.#root = root;
    this.#logger = logger;
  }

  add(listener: (changes: readonly JobChange[]) => void, name: string): () => void {
    const entry = { name, listener };
    this.#entries.add(entry);
    return () => {
      this.#entries.delete(entry);
    };
  }

  tell(changes: readonly JobChange[]): void {
    if (changes.length === 0) return;
    for (const { name, listener } of [...this.#entries]) {
      try {
        listener(changes);
      } catch (error) {
        this.#logger.error({ err: error, listener: name, root: this.#root }, 'a commit listener failed');
      }
    }
  }
}
