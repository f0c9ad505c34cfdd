/**
 * The jobs a live query shows, in the order `store.list` gives them for `updated-desc`: newest
 * `updated` first, ties by `_id` descending. A total order, so a window kept up to date change
 * by change holds exactly what a fresh query would.
 */
import type { StoredJob } from '../store/job-store.ts';

export interface WindowEntry {
  id: string;
  updated: number;
  doc: StoredJob;
}

/** Whether `a` comes before `b`. */
function before(a: { id: string; updated: number }, b: { id: string; updated: number }): boolean {
  return a.updated > b.updated || (a.updated === b.updated && a.id > b.id);
}

export class JobWindow {
  /** In order; a live query's limit is at most 1000, so an array is cheap. */
  #entries: WindowEntry[] = [];
  readonly #byId = new Map<string, WindowEntry>();

  get size(): number {
    return this.#entries.length;
  }

  get(id: string): StoredJob | undefined {
    return this.#byId.get(id)?.doc;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  ids(): string[] {
    return this.#entries.map((entry) => entry.id);
  }

  docs(): StoredJob[] {
    return this.#entries.map((entry) => entry.doc);
  }

  /** Whether `doc` would come after every job shown. */
  isBeyondLast(doc: StoredJob): boolean {
    const last = this.#entries.at(-1);
    return last !== undefined && before(last, entryOf(doc));
  }

  /** Puts `doc` in its place (replacing its previous version). */
  upsert(doc: StoredJob): void {
    this.remove(doc._id);
    const entry = entryOf(doc);
    let low = 0;
    let high = this.#entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (before(this.#entries[middle] as WindowEntry, entry)) low = middle + 1;
      else high = middle;
    }
    this.#entries.splice(low, 0, entry);
    this.#byId.set(entry.id, entry);
  }

  remove(id: string): boolean {
    const entry = this.#byId.get(id);
    if (entry === undefined) return false;
    this.#byId.delete(id);
    this.#entries.splice(this.#entries.indexOf(entry), 1);
    return true;
  }

  /** Removes and answers the last job shown. */
  popLast(): StoredJob | undefined {
    const entry = this.#entries.pop();
    if (entry !== undefined) this.#byId.delete(entry.id);
    return entry?.doc;
  }

  replaceAll(docs: readonly StoredJob[]): void {
    this.#entries = [];
    this.#byId.clear();
    for (const doc of docs) this.upsert(doc);
  }
}

function entryOf(doc: StoredJob): WindowEntry {
  return { id: doc._id, updated: doc.updated.getTime(), doc };
}
