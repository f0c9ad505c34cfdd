/**
 * `JobStore` for one collection root of a SQLite database. Several stores (roots) share the
 * database, hence its single writer and its group commit; each sees only its own rows.
 */
import type { AnalyticsCounts, AnalyticsPeriod, AnalyticsResolution } from '../../../shared/analytics.ts';
import type { JobDoc } from '../../../shared/job-doc.ts';
import { createLogger, type Logger } from '../../logger.ts';
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
import { ChangeRecorder, collapseChanges } from '../change-collector.ts';
import { CommitListeners } from '../commit-listeners.ts';
import type { BatchObserver } from './group-commit.ts';
import { JobQueries, type JobRow } from './job-queries.ts';
import { compareRows, listsAfter, matchExpression, rowMatches } from './list-query.ts';
import { withKeysInPlace } from '../job-changes.ts';
import { decodeChain, decodeDoc, decodeLog } from './row-codec.ts';
import type { SqliteDatabase } from './sqlite-database.ts';
import { SqliteTransaction } from './sqlite-transaction.ts';

/**
 * The jobs of one root. Writes go through the database's group-commit queue on the writer
 * connection; reads outside transactions use the read-only connection.
 */
export class SqliteJobStore implements JobStore, BatchObserver {
  readonly root: string;
  readonly #database: SqliteDatabase;
  readonly #writes: JobQueries;
  readonly #reads: JobQueries;
  readonly #listeners: CommitListeners;
  /**
   * The changes of this store's transactions kept, by batch: a batch is told to the listeners
   * once it is durable, while the next one may already be writing.
   */
  readonly #batchRecorders = new Map<number, ChangeRecorder[]>();
  /** Transactions queued and not yet settled, for `close()` to wait on. */
  readonly #pending = new Set<Promise<unknown>>();
  readonly #release: () => Promise<void>;
  #closing: Promise<void> | undefined;

  /**
   * @param release Called once when the store is closed; by default it closes the database,
   *   which suits a database with a single root.
   * @param logger Where a commit listener's exception is reported.
   */
  constructor(
    database: SqliteDatabase,
    root: string,
    release: () => Promise<void> = () => database.close(),
    logger: Logger = createLogger(),
  ) {
    this.root = root;
    this.#database = database;
    this.#release = release;
    this.#listeners = new CommitListeners(root, logger);
    this.#writes = new JobQueries(database.writer, root);
    this.#reads = database.isMemory ? this.#writes : new JobQueries(database.reader, root);
  }

  /**
   * Runs `work` in the next group commit. `work` must only await `tx`: awaiting a
   * `transaction` called from inside it would deadlock; the inner call is rejected instead.
   */
  transaction<T>(work: (tx: JobTransaction) => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError());
    const recorder = new ChangeRecorder();
    const result = this.#database.queue.enqueue({
      run: async () => {
        const tx = new SqliteTransaction(this.#writes, recorder);
        try {
          const value = await work(tx);
          // The work's last row write, held back in case a log append joined it.
          tx.flush();
          return value;
        } finally {
          tx.end();
        }
      },
      kept: (batch) => {
        let recorders = this.#batchRecorders.get(batch);
        if (recorders === undefined) this.#batchRecorders.set(batch, (recorders = []));
        recorders.push(recorder);
      },
      observer: this,
    });
    this.#pending.add(result);
    const forget = () => this.#pending.delete(result);
    result.then(forget, forget);
    return result;
  }

  async getJobs(ids: readonly string[], options: ReadOptions = {}): Promise<JobDoc[]> {
    this.#checkOpen();
    const jobs: JobDoc[] = [];
    for (const id of new Set(ids)) {
      const row = this.#reads.get(id);
      if (row === undefined) continue;
      let job: JobDoc = decodeDoc(row.doc);
      if (!options.failures) delete job.failures;
      if (options.log) {
        job.log = decodeLog(this.#reads.log(id) ?? '');
        job = withKeysInPlace(job, ['log']);
      }
      jobs.push(job);
    }
    return jobs;
  }

  async readAnalytics(resolution: AnalyticsResolution, since: Date): Promise<AnalyticsPeriod[]> {
    this.#checkOpen();
    return this.#reads.analytics(resolution, since.getTime()).map(({ at, type, counts }) => ({
      ...(JSON.parse(counts) as AnalyticsCounts),
      type,
      resolution,
      at: new Date(at),
    }));
  }

  async getChains(ids: readonly string[]): Promise<StoredChain[]> {
    this.#checkOpen();
    const chains: StoredChain[] = [];
    for (const id of new Set(ids)) {
      const row = this.#reads.chainRow(id);
      if (row !== undefined) chains.push(decodeChain(row));
    }
    return chains;
  }

  async list(query: JobQuery, options: ListOptions): Promise<StoredJob[]> {
    this.#checkOpen();
    const limit = Math.max(0, Math.floor(options.limit));
    if (query.ids === undefined) {
      return this.#reads.list(query, options.order, limit, options.after).map((row) => decodeDoc(row.doc));
    }
    const saved = query.text !== undefined && matchExpression(query.text) !== undefined;
    let rows = this.#rowsOf(query);
    const after = options.after;
    if (after !== undefined && saved) {
      const pivot = this.#reads.get(after.id);
      rows = pivot === undefined ? [] : rows.filter((row) => row.seq < pivot.seq);
    } else if (after !== undefined) {
      rows = rows.filter((row) => listsAfter(row, after, options.order));
    }
    return rows
      .sort((a, b) => compareRows(a, b, saved ? 'saved-desc' : options.order))
      .slice(0, limit)
      .map((row) => decodeDoc(row.doc));
  }

  async count(query: JobQuery): Promise<number> {
    this.#checkOpen();
    return query.ids === undefined ? this.#reads.count(query) : this.#rowsOf(query).length;
  }

  /** The rows of a query by ids. */
  #rowsOf(query: JobQuery): JobRow[] {
    const rows: JobRow[] = [];
    for (const id of new Set(query.ids)) {
      const row = this.#reads.get(id);
      if (row === undefined || !rowMatches(row, query)) continue;
      if (query.text !== undefined && !this.#reads.matchesText(row.seq, query.text)) continue;
      rows.push(row);
    }
    return rows;
  }

  /**
   * Counts as of a moment when every commit has been told to the `onCommit` listeners, so that
   * a listener may count on from them (the stats publication does).
   */
  async counts(): Promise<QueueCounts> {
    this.#checkOpen();
    return this.#database.queue.quiesced(() => {
      const counts: QueueCounts = {};
      for (const { type, status, n } of this.#reads.counts()) {
        (counts[type] ??= {})[status] = n;
      }
      return counts;
    });
  }

  async nextPromotionTime(): Promise<Date | undefined> {
    this.#checkOpen();
    const after = this.#reads.nextPromotion();
    return after === undefined ? undefined : new Date(after);
  }

  async scanJobs(afterId: string | undefined, limit: number): Promise<WholeJob[]> {
    this.#checkOpen();
    return this.#reads.scan(afterId, Math.max(0, Math.floor(limit))).map((row) => withKeysInPlace({ ...decodeDoc(row.doc), log: decodeLog(row.log) }, ['log']));
  }

  async scanChains(afterId: string | undefined, limit: number): Promise<StoredChain[]> {
    this.#checkOpen();
    return this.#reads.scanChains(afterId, Math.max(0, Math.floor(limit))).map((row) => decodeChain(row));
  }

  onCommit(listener: (changes: readonly JobChange[]) => void, name = 'commit listener'): () => void {
    return this.#listeners.add(listener, name);
  }

  /**
   * Stops accepting calls, lets the transactions already queued settle, then releases the
   * database (which closes once its last store is closed). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled(this.#pending);
      await this.#release();
    })();
    return this.#closing;
  }

  /** @internal Part of `BatchObserver`: the batch is on disk, tell the listeners. */
  batchCommitted(batch: number): void {
    const recorders = this.#batchRecorders.get(batch) ?? [];
    this.#batchRecorders.delete(batch);
    this.#listeners.tell(collapseChanges(recorders.flatMap((recorder) => recorder.changes)));
  }

  /** @internal Part of `BatchObserver`: nothing of the batch was written. */
  batchAborted(batch: number): void {
    this.#batchRecorders.delete(batch);
  }

  /**
   * Reads see committed data only: the read-only connection never sees a batch in progress.
   * `:memory:` reads on the writer; there a batch is invisible to other callers only because
   * it runs within one event-loop turn, which a work that awaits I/O would break.
   */
  #checkOpen(): void {
    if (this.#closing !== undefined) throw this.#closedError();
  }

  #closedError(): Error {
    return new Error(`The job store of "${this.root}" is closed`);
  }
}
