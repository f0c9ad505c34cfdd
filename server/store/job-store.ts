/**
 * The persistence contract of Cumulus, in the domain's words. The job semantics in
 * `server/jobs/` are written once against it; each backend (SQLite, MongoDB) implements it
 * and passes the same conformance suite.
 */
import type { AnalyticsPeriod, AnalyticsResolution } from '../../shared/analytics.ts';
import type { ChainLinkSpec, ChainOutcome, ChainStatus } from '../../shared/chains.ts';
import type { JobStatus } from '../../shared/constants.ts';
import type { JobDoc, JobLogEntry } from '../../shared/job-doc.ts';

/**
 * Who holds a running job: the DDP connection that claimed it, and the server run that
 * connection belongs to (absent on claims made before servers had ids).
 */
export interface JobClaim {
  claimedBy?: string;
  server?: string;
}

/**
 * A stored job without its log, which is kept apart because it only ever grows. `_private`
 * holds what only the server may know (jobCollection's name for it): who claimed a running
 * job. It is never sent to clients.
 */
export type StoredJob = Omit<JobDoc, 'log'> & { _private?: JobClaim };

/**
 * Changes to a job: a key set to `undefined` is removed from the document (only optional
 * fields may be removed). `_id` never changes.
 */
export type JobChanges = { [K in Exclude<keyof StoredJob, '_id'>]?: StoredJob[K] | undefined };

/** A typed selection of jobs; absent criteria match everything. */
export interface JobFilter {
  ids?: readonly string[];
  types?: readonly string[];
  statuses?: readonly JobStatus[];
}

/** A span of time: `from` included, `to` excluded; an absent end is open. */
export interface TimeRange {
  from?: Date;
  to?: Date;
}

/**
 * What a person looks for (jobList, jobBulk): a typed filter, words, and time ranges. `text`
 * selects the jobs holding every one of its words, each as a prefix, among the words of
 * `searchWords` (id, type, name, data, result, failures).
 */
export interface JobQuery extends JobFilter {
  text?: string;
  created?: TimeRange;
  updated?: TimeRange;
}

/** Conditions an update must still meet when it is applied (a compare-and-set). */
export interface UpdateGuard {
  statuses?: readonly JobStatus[];
  /** The job's runId must equal this (null: must be null). */
  runId?: string | null;
}

/** One committed change, as the feed and the publications see it. */
export interface JobChange {
  id: string;
  type: string;
  /** Status after the change; null when the job was removed. */
  status: JobStatus | null;
  /** Status before the change; null when the job was inserted. */
  previousStatus: JobStatus | null;
  /** The chain the job is a link of, if any. */
  chainId?: string;
  /** Another server's commit (MongoDB), told so that what counts commits counts each once across servers. */
  foreign?: true;
  /**
   * The job as the change left it (undefined when it was removed, or when only its log grew):
   * what live queries need to apply the change without reading the store again. Never mutate it.
   */
  doc?: StoredJob;
}

/**
 * A chain as the server keeps it (docs/PROTOCOL.md §7.9): its links as submitted, the jobs made
 * for them so far, and the outcome its submitter awaits once it is known.
 */
export interface StoredChain {
  _id: string;
  name?: string;
  links: ChainLinkSpec[];
  /** The job of each link made so far, by link index; the last one is the current link. */
  jobIds: string[];
  /** The link whose result is the outcome: the one marked `callback`, else the last. */
  callbackAt: number;
  status: ChainStatus;
  /** Set once, when the callback link completes or the chain ends without it. */
  outcome?: ChainOutcome;
  /** The job whose handler submitted the chain (jobs calling jobs). */
  parent?: string;
  /** 0 for a chain submitted from outside; a parent's depth + 1 for one submitted by a handler. */
  depth: number;
  created: Date;
  updated: Date;
}

export type ChainChanges = Partial<Omit<StoredChain, '_id' | 'links' | 'created'>>;

/**
 * Reads and writes inside one atomic transaction. Reads see the transaction's own writes.
 * Work given to `JobStore.transaction` must only await this object's methods, never timers
 * or other I/O: a backend may batch several transactions into one commit.
 */
export interface JobTransaction {
  get(id: string): Promise<StoredJob | undefined>;
  find(filter: JobFilter): Promise<StoredJob[]>;
  insert(job: StoredJob, log: readonly JobLogEntry[]): Promise<void>;
  /** Applies changes if the guard still holds; true if the job was changed. */
  update(id: string, changes: JobChanges, guard?: UpdateGuard): Promise<boolean>;
  appendLog(id: string, entries: readonly JobLogEntry[]): Promise<void>;
  /** Removes the jobs (and their logs); returns how many were removed. */
  remove(ids: readonly string[]): Promise<number>;
  /**
   * Claimable jobs (`ready`, runId null) of the given types in claim order: priority,
   * retryUntil, after, created, then insertion order. With `parents`, only the jobs whose
   * `parent` is one of them.
   */
  nextReady(types: readonly string[], limit: number, parents?: readonly string[]): Promise<StoredJob[]>;
  /** Jobs whose pending `depends` contains one of the ids, optionally limited to statuses. */
  dependentsOf(ids: readonly string[], statuses?: readonly JobStatus[]): Promise<StoredJob[]>;
  /**
   * `waiting` jobs with `after <= time`, and (unless `ignoreDepends`) no pending depends, the
   * earliest due first; optionally only these ids, and at most `limit` of them.
   */
  promotable(time: Date, options: { ids?: readonly string[]; ignoreDepends: boolean; limit?: number }): Promise<StoredJob[]>;
  /** `running` jobs whose lease (`expiresAfter`) is before `time`. */
  expired(time: Date): Promise<StoredJob[]>;
  insertChain(chain: StoredChain): Promise<void>;
  getChain(id: string): Promise<StoredChain | undefined>;
  /** Applies changes to a chain; false when there is no such chain. */
  updateChain(id: string, changes: ChainChanges): Promise<boolean>;
  /** Removes a chain; false when there was none. */
  removeChain(id: string): Promise<boolean>;
  /** The chains submitted by the handler of job `parent`, optionally only in these statuses. */
  chainsOf(parent: string, statuses?: readonly ChainStatus[]): Promise<StoredChain[]>;
  /** Adds counts to the analytics of each type's period, making the period when it has none (§7.18). */
  addAnalytics(periods: readonly AnalyticsPeriod[]): Promise<void>;
  /** Removes the analytics periods of a resolution that started before `before`. */
  pruneAnalytics(resolution: AnalyticsResolution, before: Date): Promise<void>;
}

export interface ReadOptions {
  log?: boolean;
  failures?: boolean;
}

/**
 * The orders of `list`, each total (ties broken by `_id`, descending):
 * - `updated-desc`: newest activity first, the order a monitor wants and a live window
 *   (server/publications) keeps exactly;
 * - `created-desc`: newest first;
 * - `priority`: most urgent first (the lowest number), then newest first;
 * - `created-asc`: oldest first (ties in insertion order), how bulk actions take jobs.
 * A query with `text` ignores the order: matches come newest saved first, the order the
 * search index keeps, so a page costs the same however many jobs match.
 */
export type ListOrder = 'updated-desc' | 'created-desc' | 'priority' | 'created-asc';

/** The last job of a page, as far as the order needs it: the next page starts after it. */
export interface ListCursor {
  id: string;
  updated?: Date;
  created?: Date;
  priority?: number;
}

/** The sort keys a cursor must carry besides its id, per order (`created-asc` is not paged). */
const cursorKeys: Record<Exclude<ListOrder, 'created-asc'>, readonly (keyof ListCursor)[]> = {
  'updated-desc': ['updated'],
  'created-desc': ['created'],
  priority: ['priority', 'created'],
};

/** The keys `order` sorts on that `cursor` lacks; a TypeError for an order that is not paged. */
export function missingCursorKeys(order: ListOrder, cursor: ListCursor): (keyof ListCursor)[] {
  if (order === 'created-asc') throw new TypeError('pages after a job are not offered in created-asc order');
  return cursorKeys[order].filter((key) => cursor[key] === undefined);
}

/** A TypeError naming the keys `cursor` lacks for `order`, if any: the stores' own check of `after`. */
export function assertCursorKeys(order: ListOrder, cursor: ListCursor): void {
  const missing = missingCursorKeys(order, cursor);
  if (missing.length > 0) throw new TypeError(`a page after a job in ${order} order needs its ${missing.join(' and ')}`);
}

export interface ListOptions {
  limit: number;
  order: ListOrder;
  /**
   * Only the jobs that come after this one in the order (keyset paging: the next page starts
   * after the last job of the previous one, however many jobs there are). Not with `created-asc`.
   * The fields the order sorts on are required (a text query needs only `id`; if that job is
   * gone, the page is empty).
   */
  after?: ListCursor;
}

/** A stored job with everything it holds: its log and failures too, as a copy of the store needs it. */
export type WholeJob = StoredJob & { log: JobLogEntry[] };

/** Count of jobs per type and status. */
export type QueueCounts = Record<string, Partial<Record<JobStatus, number>>>;

export interface JobStore {
  /**
   * Runs `work` atomically and durably: when the promise resolves, the writes are on disk.
   * A backend may run `work` more than once (MongoDB runs a transaction again when it conflicted
   * with another server's); only the last run's writes count, so whatever `work` does besides
   * calling `tx` must be safe to repeat.
   */
  transaction<T>(work: (tx: JobTransaction) => Promise<T>): Promise<T>;
  /** Committed jobs by id, in no particular order; missing ids are skipped. */
  getJobs(ids: readonly string[], options?: ReadOptions): Promise<JobDoc[]>;
  /** Committed analytics periods of a resolution that started at or after `since`, in no particular order. */
  readAnalytics(resolution: AnalyticsResolution, since: Date): Promise<AnalyticsPeriod[]>;
  /** Committed chains by id, in no particular order; missing ids are skipped. */
  getChains(ids: readonly string[]): Promise<StoredChain[]>;
  list(query: JobQuery, options: ListOptions): Promise<StoredJob[]>;
  /** How many committed jobs the query selects. */
  count(query: JobQuery): Promise<number>;
  /**
   * Jobs by type and status, as of a moment when every commit has been told to the `onCommit`
   * listeners: a listener may keep counting from them with the changes that follow.
   */
  counts(): Promise<QueueCounts>;
  /** The earliest `after` among waiting jobs without pending depends, if any. */
  nextPromotionTime(): Promise<Date | undefined>;
  /**
   * Committed jobs whose `_id` sorts after `afterId` (from the first without it), in `_id`
   * order, at most `limit`, whole: how a store is read page by page to be copied.
   */
  scanJobs(afterId: string | undefined, limit: number): Promise<WholeJob[]>;
  /** Committed chains in `_id` order after `afterId`, at most `limit`. */
  scanChains(afterId: string | undefined, limit: number): Promise<StoredChain[]>;
  /**
   * Called after each commit with what it changed. A listener that throws is logged under
   * `name` and does not stop the others. Returns an unsubscribe function.
   */
  onCommit(listener: (changes: readonly JobChange[]) => void, name?: string): () => void;
  close(): Promise<void>;
}
