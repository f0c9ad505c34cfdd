/**
 * `JobStore` for one collection root of a MongoDB database: jobs in `<root>.jobs` in
 * jobCollection's shape (job-document.ts), chains in `<root>.chains`. Writes run in
 * multi-document transactions grouped by the commit queue; this server's commits are told to
 * the listeners when they commit, other writers' through the change follower.
 */
import type { AnalyticsPeriod, AnalyticsResolution } from '../../../shared/analytics.ts';
import type { JobDoc } from '../../../shared/job-doc.ts';
import { createLogger, type Logger } from '../../logger.ts';
import type { ChangeRecorder } from '../change-collector.ts';
import { collapseChanges } from '../change-collector.ts';
import { CommitListeners } from '../commit-listeners.ts';
import type {
  JobChange,
  JobQuery,
  JobStore,
  JobTransaction,
  ListOptions,
  QueueCounts,
  ReadOptions,
  StoredChain,
  StoredJob,
  WholeJob,
} from '../job-store.ts';
import { ChangeFollower } from './change-follower.ts';
import { chainFromDocument, jobFromDocument, shapeProblem } from './job-document.ts';
import type { ClientLike, CollectionLike, DbLike } from './mongo-api.ts';
import { type CommitQueueOptions, isUnreachable, MongoCommitQueue } from './mongo-commit-queue.ts';
import { StoreUnavailableError } from '../store-unavailable-error.ts';
import { analyticsFromDocument, type MongoCollections, withoutLog } from './mongo-transaction.ts';
import { afterCursor, listSort, querySelector } from './list-query.ts';

export interface MongoJobStoreOptions {
  logger?: Logger;
  commits?: Partial<CommitQueueOptions>;
  /** Follow other writers' changes with a change stream (needs a replica set). Default true. */
  followChanges?: boolean;
  /** Whether the jobs collection keeps change-stream pre- and post-images (see ChangeFollower). */
  changeStreamImages?: boolean;
  /** Pause before a failed change stream is opened again, in ms. */
  reopenDelayMs?: number;
  /** Told of each committed batch: how many transactions, and how long its commit took. */
  onCommitBatch?: (transactions: number, seconds: number) => void;
}

/** How many recently changed jobs `#toldUpdated` remembers. */
const toldLimit = 50_000;

export class MongoJobStore implements JobStore {
  readonly root: string;
  readonly #jobs: CollectionLike;
  readonly #chains: CollectionLike;
  readonly #analytics: CollectionLike;
  readonly #queue: MongoCommitQueue;
  readonly #follower: ChangeFollower | undefined;
  readonly #listeners: CommitListeners;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #logger: Logger;
  readonly #skipped = new Map<string, unknown>();
  /** The `updated` time of the latest state told for each recently changed job, oldest first. */
  readonly #toldUpdated = new Map<string, number>();
  #lastSeq = 0;
  #closing: Promise<void> | undefined;

  constructor(client: ClientLike, db: DbLike, root: string, options: MongoJobStoreOptions = {}) {
    this.root = root;
    this.#logger = options.logger ?? createLogger();
    this.#listeners = new CommitListeners(root, this.#logger);
    this.#jobs = db.collection(`${root}.jobs`);
    this.#chains = db.collection(`${root}.chains`);
    this.#analytics = db.collection(`${root}.analytics`);
    const collections: MongoCollections = {
      jobs: this.#jobs,
      chains: this.#chains,
      analytics: this.#analytics,
      nextSeq: () => this.#nextSeq(),
      skipped: this.#skipped,
      skip: (id, problem) => this.#skip(id, problem),
    };
    this.#queue = new MongoCommitQueue(
      client,
      collections,
      (recorders, seconds) => {
        this.#tell(recorders);
        options.onCommitBatch?.(recorders.length, seconds);
      },
      options.commits,
    );
    if (options.followChanges !== false) {
      this.#follower = new ChangeFollower(this.#jobs, {
        ownSessions: this.#queue.ownSessions,
        deliver: (changes) => this.#listeners.tell(this.#withoutStaleDocs(changes).map((change) => ({ ...change, foreign: true }))),
        logger: this.#logger,
        images: options.changeStreamImages === true,
        ...(options.reopenDelayMs === undefined ? {} : { reopenDelayMs: options.reopenDelayMs }),
      });
      this.#follower.start();
    }
  }

  /** How many times the change stream was opened again after failing. */
  get changeStreamReopens(): number {
    return this.#follower?.reopened ?? 0;
  }

  transaction<T>(work: (tx: JobTransaction) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError());
    const result = this.#queue.enqueue({ run: (tx) => work(tx) });
    this.#pending.add(result);
    const forget = () => this.#pending.delete(result);
    result.then(forget, forget);
    return result;
  }

  getJobs(ids: readonly string[], options: ReadOptions = {}): Promise<JobDoc[]> {
    return this.#read(() => this.#getJobs(ids, options));
  }

  async #getJobs(ids: readonly string[], options: ReadOptions): Promise<JobDoc[]> {
    const projection: Record<string, 0> = {};
    if (options.log !== true) projection.log = 0;
    if (options.failures !== true) projection.failures = 0;
    const docs = await this.#jobs.find({ _id: { $in: [...new Set(ids)] } }, { projection }).toArray();
    const jobs: JobDoc[] = [];
    for (const doc of docs) {
      const problem = shapeProblem(doc);
      if (problem === undefined) jobs.push(jobFromDocument(doc, { log: options.log === true, failures: options.failures === true }));
      else this.#skip(doc._id, problem);
    }
    return jobs;
  }

  readAnalytics(resolution: AnalyticsResolution, since: Date): Promise<AnalyticsPeriod[]> {
    return this.#read(async () => {
      const docs = await this.#analytics.find({ resolution, at: { $gte: since } }).toArray();
      return docs.map(analyticsFromDocument);
    });
  }

  getChains(ids: readonly string[]): Promise<StoredChain[]> {
    return this.#read(async () => {
      const docs = await this.#chains.find({ _id: { $in: [...new Set(ids)] } }, { projection: { _seq: 0 } }).toArray();
      return docs.map(chainFromDocument);
    });
  }

  list(query: JobQuery, options: ListOptions): Promise<StoredJob[]> {
    return this.#read(() => this.#list(query, options));
  }

  async #list(query: JobQuery, options: ListOptions): Promise<StoredJob[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    if (limit === 0) return [];
    const selector = querySelector(query);
    const text = selector._words !== undefined;
    const conditions = [selector];
    if (options.after !== undefined && text) {
      // A text query lists newest saved first: the page goes on below the last job's `_seq`.
      const [pivot] = await this.#jobs.find({ _id: options.after.id }, { projection: { _seq: 1 }, limit: 1 }).toArray();
      if (pivot === undefined) return [];
      conditions.push({ _seq: { $lt: pivot._seq } });
    } else if (options.after !== undefined) {
      conditions.push(afterCursor(options.order, options.after));
    }
    const sort = text ? { _seq: -1 } : listSort[options.order];
    const filter = conditions.length === 1 ? selector : { $and: conditions };
    const docs = await this.#jobs.find(filter, { projection: withoutLog, sort, limit }).toArray();
    return docs.filter((doc) => shapeProblem(doc) === undefined).map((doc) => jobFromDocument(doc));
  }

  count(query: JobQuery): Promise<number> {
    return this.#read(async () => {
      const [counted] = await this.#jobs.aggregate([{ $match: querySelector(query) }, { $count: 'n' }]).toArray();
      return typeof counted?.n === 'number' ? counted.n : 0;
    });
  }

  /**
   * Counts as of a moment when each of this server's commits has been told to the listeners.
   * Other writers' changes arrive through the change stream a moment after they are visible,
   * so a listener counting on from here may see one of them twice (docs/PROTOCOL.md §7.15).
   */
  counts(): Promise<QueueCounts> {
    return this.#read(() => this.#queue.quiesced(() => this.#counts()));
  }

  async #counts(): Promise<QueueCounts> {
    // Sorted on the `type_status` index first: the grouping walks the index, needing only its two fields.
    const pipeline = [
      { $sort: { type: 1, status: 1 } },
      { $group: { _id: { type: '$type', status: '$status' }, n: { $sum: 1 } } },
    ];
    const groups = (await this.#jobs.aggregate(pipeline).toArray()) as { _id: { type: unknown; status: unknown }; n: number }[];
    const counts: QueueCounts = {};
    for (const { _id: key, n } of groups) {
      if (typeof key.type !== 'string' || typeof key.status !== 'string') continue;
      (counts[key.type] ??= {})[key.status as keyof QueueCounts[string]] = n;
    }
    return counts;
  }

  nextPromotionTime(): Promise<Date | undefined> {
    return this.#read(async () => {
      const filter = { status: 'waiting', depends: { $size: 0 } };
      const [next] = await this.#jobs.find(filter, { sort: { after: 1 }, limit: 1, projection: { after: 1 } }).toArray();
      return next?.after instanceof Date ? next.after : undefined;
    });
  }

  scanJobs(afterId: string | undefined, limit: number): Promise<WholeJob[]> {
    const count = Math.floor(limit);
    return this.#read(async () => {
      if (count <= 0) return [];
      let after = afterId;
      for (;;) {
        const filter = after === undefined ? {} : { _id: { $gt: after } };
        const docs = await this.#jobs.find(filter, { sort: { _id: 1 }, limit: count }).toArray();
        const jobs: WholeJob[] = [];
        for (const doc of docs) {
          const problem = shapeProblem(doc);
          if (problem === undefined) jobs.push(jobFromDocument(doc, { log: true, failures: true }) as WholeJob);
          else this.#skip(doc._id, problem);
        }
        // A page of documents that are not jobs is not the end: read on past it.
        const last = docs.at(-1)?._id;
        if (jobs.length > 0 || docs.length < count || typeof last !== 'string') return jobs;
        after = last;
      }
    });
  }

  scanChains(afterId: string | undefined, limit: number): Promise<StoredChain[]> {
    const count = Math.floor(limit);
    return this.#read(async () => {
      if (count <= 0) return [];
      const filter = afterId === undefined ? {} : { _id: { $gt: afterId } };
      const docs = await this.#chains.find(filter, { sort: { _id: 1 }, limit: count, projection: { _seq: 0 } }).toArray();
      return docs.map(chainFromDocument);
    });
  }

  onCommit(listener: (changes: readonly JobChange[]) => void, name = 'commit listener'): () => void {
    return this.#listeners.add(listener, name);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled(this.#pending);
      await this.#follower?.stop();
      await this.#queue.close();
    })();
    return this.#closing;
  }

  /** Insertion order: milliseconds × 1024 plus a counter, increasing within this server. */
  #nextSeq(): number {
    this.#lastSeq = Math.max(this.#lastSeq + 1, Date.now() * 1024);
    return this.#lastSeq;
  }

  #skip(id: unknown, problem: string): void {
    const key = String(id);
    if (this.#skipped.has(key)) return;
    this.#skipped.set(key, id);
    this.#logger.warn({ root: this.root, jobId: key, problem }, 'a document of the jobs collection is not a job; it is skipped');
  }

  #tell(recorders: readonly ChangeRecorder[]): void {
    const changes = collapseChanges(recorders.flatMap((recorder) => recorder.changes));
    for (const change of changes) this.#noteTold(change);
    this.#listeners.tell(changes);
  }

  /**
   * Another writer's change reaches this server a moment after it committed, possibly after this
   * server told a later change of the same job. Such a change is still told (counters need every
   * transition) but without its document, so live views keep the newer one they have.
   */
  #withoutStaleDocs(changes: readonly JobChange[]): JobChange[] {
    return changes.map((change) => {
      const told = this.#toldUpdated.get(change.id);
      const updated = change.doc?.updated.getTime();
      const stale = told !== undefined && updated !== undefined && (change.previousStatus === null || updated < told);
      this.#noteTold(change);
      if (!stale) return change;
      const { doc: _stale, ...rest } = change;
      return rest;
    });
  }

  #noteTold(change: JobChange): void {
    if (change.status === null) {
      this.#toldUpdated.delete(change.id);
      return;
    }
    const updated = change.doc?.updated.getTime();
    if (updated === undefined) return;
    const told = this.#toldUpdated.get(change.id);
    this.#toldUpdated.delete(change.id);
    this.#toldUpdated.set(change.id, Math.max(told ?? updated, updated));
    // The oldest entries go first: a change that late is not expected.
    if (this.#toldUpdated.size > toldLimit) {
      const oldest = this.#toldUpdated.keys().next().value;
      if (oldest !== undefined) this.#toldUpdated.delete(oldest);
    }
  }

  /** Runs a read of committed data; a database that cannot be reached becomes a 503. */
  async #read<T>(read: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    try {
      return await read();
    } catch (error) {
      throw isUnreachable(error) ? new StoreUnavailableError('MongoDB', error) : error;
    }
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw this.#closedError();
  }

  #closedError(): Error {
    return new Error(`The job store of "${this.root}" is closed`);
  }
}
