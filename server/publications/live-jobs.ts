/**
 * The live queries of one collection root's `<root>.jobs`: one observer per distinct filter,
 * limit and throttle, however many subscriptions share it, and one feed listener for all of them. A change
 * is handed only to the observers it may concern — those watching its id, those watching its
 * type, and those watching every type — so a commit costs the queries it touches, not every
 * subscription there is.
 */
import type { JobFeed } from '../feed/job-feed.ts';
import type { Logger } from '../logger.ts';
import type { JobFilter, JobStore } from '../store/job-store.ts';
import { JobQueryObserver, type LiveSubscriber } from './job-query-observer.ts';
import type { PublicationOptions } from './publication-options.ts';

export interface LiveJobsDeps {
  store: JobStore;
  feed: JobFeed;
  logger: Logger;
  pacing: PublicationOptions;
}

/** A subscription's hold on a live query. */
export interface LiveHandle {
  /** Applies pending changes now (before the subscriber's `updated`). */
  flush(): Promise<void>;
  stop(): void;
}

interface Entry {
  observer: JobQueryObserver;
  /** Settles once the observer has read its first window. */
  started: Promise<void>;
}

export class LiveJobs {
  readonly #deps: LiveJobsDeps;
  readonly #byKey = new Map<string, Entry>();
  readonly #byId = new Map<string, Set<JobQueryObserver>>();
  readonly #byType = new Map<string, Set<JobQueryObserver>>();
  readonly #everyType = new Set<JobQueryObserver>();
  #unsubscribe: (() => void) | undefined;

  constructor(deps: LiveJobsDeps) {
    this.#deps = deps;
  }

  /** Live queries running, for tests and monitoring. */
  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Joins (or starts) the live query of `filter` and `limit` sending batches at most every
   * `throttleMs` (never more often than the server's own throttle); `subscriber` gets its window first.
   */
  async subscribe(filter: JobFilter, limit: number, subscriber: LiveSubscriber, throttleMs = 0): Promise<LiveHandle> {
    const throttle = Math.max(throttleMs, this.#deps.pacing.throttleMs);
    const key = keyOf(filter, limit, throttle);
    let entry = this.#byKey.get(key);
    if (entry === undefined) {
      const observer = new JobQueryObserver(filter, limit, { ...this.#deps, pacing: { ...this.#deps.pacing, throttleMs: throttle } });
      // Indexed before its first read: a change committed meanwhile is applied at its first flush.
      this.#index(observer, true);
      entry = { observer, started: observer.start() };
      this.#byKey.set(key, entry);
      entry.started.catch(() => this.#drop(key));
    }
    const { observer } = entry;
    await entry.started;
    // A late subscriber starts from the current state, not from what the others were last sent.
    await observer.flush();
    observer.subscribe(subscriber);
    let stopped = false;
    return {
      flush: () => (stopped ? Promise.resolve() : observer.flush()),
      stop: () => {
        if (stopped) return;
        stopped = true;
        observer.unsubscribe(subscriber);
        if (observer.subscriberCount === 0) this.#drop(key);
      },
    };
  }

  /** Stops every live query (the server is stopping). */
  close(): void {
    for (const key of [...this.#byKey.keys()]) this.#drop(key);
  }

  #drop(key: string): void {
    const entry = this.#byKey.get(key);
    if (entry === undefined) return;
    this.#byKey.delete(key);
    entry.observer.stop();
    this.#index(entry.observer, false);
  }

  #index(observer: JobQueryObserver, add: boolean): void {
    const { ids, types } = observer.filter;
    if (ids !== undefined) for (const id of ids) update(this.#byId, id, observer, add);
    else if (types !== undefined) for (const type of types) update(this.#byType, type, observer, add);
    else if (add) this.#everyType.add(observer);
    else this.#everyType.delete(observer);
    if (add && this.#unsubscribe === undefined) {
      this.#unsubscribe = this.#deps.feed.subscribe('live jobs publication', (changes) => {
        for (const change of changes) {
          for (const candidate of this.#byId.get(change.id) ?? []) if (candidate.mayConcern(change)) candidate.note(change);
          for (const candidate of this.#byType.get(change.type) ?? []) candidate.note(change);
          for (const candidate of this.#everyType) candidate.note(change);
        }
      });
    }
    if (!add && this.#byKey.size === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
    }
  }
}

function update(index: Map<string, Set<JobQueryObserver>>, key: string, observer: JobQueryObserver, add: boolean): void {
  let set = index.get(key);
  if (add) {
    if (set === undefined) index.set(key, (set = new Set()));
    set.add(observer);
    return;
  }
  set?.delete(observer);
  if (set?.size === 0) index.delete(key);
}

/** The same query, however its lists were ordered: one observer. */
function keyOf(filter: JobFilter, limit: number, throttleMs: number): string {
  const sorted = (list: readonly string[] | undefined) => (list === undefined ? null : [...new Set(list)].sort());
  return JSON.stringify([sorted(filter.ids), sorted(filter.types), sorted(filter.statuses), limit, throttleMs]);
}
