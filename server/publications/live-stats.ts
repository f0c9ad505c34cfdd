/**
 * The counts of `<root>.stats`, kept by deltas: read once from the store when the first
 * subscriber comes, then moved by each committed change (one less in the status a job left, one
 * more in the status it entered), never counted again while anyone watches. One per root,
 * shared by every subscription; changed types are sent in batches paced like a live query's.
 */
import { jobStatuses, type JobStatus } from '../../shared/constants.ts';
import type { JobFeed } from '../feed/job-feed.ts';
import type { Logger } from '../logger.ts';
import type { JobChange, JobStore } from '../store/job-store.ts';
import type { Fields } from './field-diff.ts';
import type { LiveSubscriber } from './job-query-observer.ts';
import type { LiveHandle } from './live-jobs.ts';
import { BatchPacing } from './batch-pacing.ts';
import type { PublicationOptions } from './publication-options.ts';

export interface LiveStatsDeps {
  store: JobStore;
  feed: JobFeed;
  logger: Logger;
  pacing: PublicationOptions;
}

type Counts = Map<string, Map<JobStatus, number>>;

/** One type's document: `{type, <status>: n for every status, total}`. */
function statsFields(type: string, counts: ReadonlyMap<JobStatus, number> | undefined): Fields {
  const fields: Fields = { type };
  let total = 0;
  for (const status of jobStatuses) {
    const n = counts?.get(status) ?? 0;
    fields[status] = n;
    total += n;
  }
  fields.total = total;
  return fields;
}

export class LiveStats {
  readonly #deps: LiveStatsDeps;
  readonly #subscribers = new Set<LiveSubscriber>();
  readonly #pacing: BatchPacing;
  #counts: Counts = new Map();
  /** What the subscribers have, by type. */
  readonly #published = new Map<string, Fields>();
  /** Types whose counts moved since the last flush. */
  #moved = new Set<string>();
  #starting: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: LiveStatsDeps) {
    this.#deps = deps;
    this.#pacing = new BatchPacing(deps.pacing);
  }

  async subscribe(subscriber: LiveSubscriber): Promise<LiveHandle> {
    this.#starting ??= this.#start();
    await this.#starting;
    this.#flush();
    this.#subscribers.add(subscriber);
    for (const [type, fields] of this.#published) subscriber.added(type, fields);
    let stopped = false;
    return {
      flush: async () => {
        if (!stopped) this.#flush();
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        this.#subscribers.delete(subscriber);
        if (this.#subscribers.size === 0) this.close();
      },
    };
  }

  /** Stops following the feed and forgets the counts. */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#starting = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#counts = new Map();
    this.#published.clear();
    this.#moved.clear();
  }

  async #start(): Promise<void> {
    const counts = await this.#deps.store.counts();
    this.#counts = new Map(Object.entries(counts).map(([type, byStatus]) => [type, new Map(Object.entries(byStatus) as [JobStatus, number][])]));
    for (const [type, byStatus] of this.#counts) this.#published.set(type, statsFields(type, byStatus));
    // Followed from the read on. Exact for a store whose commits reach the feed before the next
    // read can start (SQLite's reads and commits never interleave with this continuation); a
    // store whose counts() awaits I/O needs a read that names the changes it includes.
    this.#unsubscribe = this.#deps.feed.subscribe('live stats publication', (changes) => this.#move(changes));
  }

  #move(changes: readonly JobChange[]): void {
    for (const change of changes) {
      if (change.previousStatus === change.status) continue;
      let byStatus = this.#counts.get(change.type);
      if (byStatus === undefined) this.#counts.set(change.type, (byStatus = new Map()));
      if (change.previousStatus !== null) byStatus.set(change.previousStatus, (byStatus.get(change.previousStatus) ?? 0) - 1);
      if (change.status !== null) byStatus.set(change.status, (byStatus.get(change.status) ?? 0) + 1);
      this.#moved.add(change.type);
    }
    if (this.#moved.size > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, this.#pacing.nextDelay());
    }
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const moved = this.#moved;
    this.#moved = new Set();
    this.#pacing.sent(moved.size * this.#subscribers.size);
    for (const type of moved) {
      const fields = statsFields(type, this.#counts.get(type));
      const before = this.#published.get(type);
      if (fields.total === 0) {
        this.#counts.delete(type);
        if (before === undefined) continue;
        this.#published.delete(type);
        for (const subscriber of this.#subscribers) subscriber.removed(type);
        continue;
      }
      this.#published.set(type, fields);
      if (before === undefined) {
        for (const subscriber of this.#subscribers) subscriber.added(type, fields);
        continue;
      }
      const diff: Fields = {};
      let any = false;
      for (const [key, value] of Object.entries(fields)) {
        if (before[key] !== value) {
          diff[key] = value;
          any = true;
        }
      }
      if (any) for (const subscriber of this.#subscribers) subscriber.changed(type, diff);
    }
  }
}
