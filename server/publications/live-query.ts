/**
 * Keeps one subscription's documents equal to the latest answer of a query. Re-running is
 * throttled, so a burst of writes becomes at most one refresh per interval, and the merge of
 * old and new answers sends only what changed.
 */
import EJSON from 'ejson';
import type { Subscription } from '../ddp/index.ts';
import type { JobFeed } from '../feed/job-feed.ts';
import type { Logger } from '../logger.ts';
import type { JobChange } from '../store/job-store.ts';

export type Fields = Record<string, unknown>;

export const publicationDefaults = {
  /** A live query is refreshed at most once per this interval, however many writes (ms). */
  throttleMs: 50,
} as const;

export class LiveQuery {
  readonly #sub: Subscription;
  readonly #collection: string;
  readonly #fetch: () => Promise<Map<string, Fields>>;
  readonly #throttleMs: number;
  readonly #onError: (error: unknown) => void;
  #current = new Map<string, Fields>();
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    sub: Subscription,
    collection: string,
    fetch: () => Promise<Map<string, Fields>>,
    throttleMs: number,
    onError: (error: unknown) => void,
  ) {
    this.#sub = sub;
    this.#collection = collection;
    this.#fetch = fetch;
    this.#throttleMs = throttleMs;
    this.#onError = onError;
  }

  /** Sends the first answer. */
  async start(): Promise<void> {
    await this.#refresh();
  }

  /** Something relevant changed: refresh within the throttle interval. */
  invalidate(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#throttleMs);
  }

  /** Refreshes now if anything changed (the write fence of the subscriber's own methods). */
  async flush(): Promise<void> {
    if (!this.#dirty || this.#stopped) return this.#refreshing;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#refresh();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #refresh(): Promise<void> {
    this.#dirty = false;
    // Refreshes run one after another so their diffs apply in order.
    this.#refreshing = this.#refreshing.then(async () => {
      if (this.#stopped) return;
      try {
        this.#apply(await this.#fetch());
      } catch (error) {
        this.#onError(error);
      }
    });
    return this.#refreshing;
  }

  #apply(next: Map<string, Fields>): void {
    if (this.#stopped) return;
    for (const [id, fields] of next) {
      const before = this.#current.get(id);
      if (before === undefined) {
        this.#sub.added(this.#collection, id, fields);
        continue;
      }
      const changed: Fields = {};
      let any = false;
      for (const [key, value] of Object.entries(fields)) {
        if (!EJSON.equals(before[key], value)) {
          changed[key] = value;
          any = true;
        }
      }
      for (const key of Object.keys(before)) {
        if (!(key in fields)) {
          changed[key] = undefined;
          any = true;
        }
      }
      if (any) this.#sub.changed(this.#collection, id, changed);
    }
    for (const id of this.#current.keys()) {
      if (!next.has(id)) this.#sub.removed(this.#collection, id);
    }
    this.#current = next;
  }
}

export interface LiveOptions {
  feed: JobFeed;
  logger: Logger;
  throttleMs: number;
}

/**
 * Publishes the answer of `fetch` on `sub` and keeps it live: refreshed (throttled) after
 * commits that `isRelevant` picks, flushed at the subscriber's write fence, stopped with the
 * subscription. Resolves once the first answer is sent and the subscription is ready.
 */
export async function publishLive(
  sub: Subscription,
  collection: string,
  fetch: () => Promise<Map<string, Fields>>,
  isRelevant: (change: JobChange) => boolean,
  options: LiveOptions,
): Promise<void> {
  const live = new LiveQuery(sub, collection, fetch, options.throttleMs, (error) =>
    options.logger.error({ err: error, collection }, 'refreshing a subscription failed'));
  const unsubscribe = options.feed.subscribe(`publication ${collection}`, (changes) => {
    if (changes.some(isRelevant)) live.invalidate();
  });
  sub.onStop(() => {
    unsubscribe();
    live.stop();
  });
  sub.onFence(() => live.flush());
  await live.start();
  sub.ready();
}
