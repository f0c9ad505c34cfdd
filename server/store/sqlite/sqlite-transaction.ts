/**
 * `JobTransaction` over the writer connection, inside the savepoint the group commit opened
 * for this work. better-sqlite3 is synchronous, so every method has finished its SQL before it
 * returns; the promises are only there to honour the asynchronous contract.
 */
import { addCounts, emptyCounts, type AnalyticsCounts, type AnalyticsPeriod, type AnalyticsResolution } from '../../../shared/analytics.ts';
import type { JobStatus } from '../../../shared/constants.ts';
import type { JobLogEntry } from '../../../shared/job-doc.ts';
import type { ChainStatus } from '../../../shared/chains.ts';
import type { ChainChanges, JobChanges, JobFilter, JobTransaction, StoredChain, StoredJob, UpdateGuard } from '../job-store.ts';
import type { ChangeRecorder } from '../change-collector.ts';
import type { ClaimRow, JobQueries, JobRow } from './job-queries.ts';
import {
  type IndexColumns,
  changedColumns,
  decodeChain,
  decodeDoc,
  encodeChain,
  encodeChainState,
  encodeDoc,
  encodeLogItems,
  indexColumns,
  jobColumns,
} from './row-codec.ts';
import { mergeChanges } from '../job-changes.ts';
import { changesWords, searchWords } from '../search-words.ts';

/**
 * An update not yet written: most updates are followed by a log entry for the same job
 * (`Job Running`, `Job Completed`, …), which then joins the same row write.
 */
interface HeldWrite {
  id: string;
  seq: number;
  columns: IndexColumns;
  changed: (keyof IndexColumns)[];
  doc: string;
  type: string;
  status: JobStatus;
  log: string[];
}

/** The transaction handed to one work; usable only until that work settles. */
export class SqliteTransaction implements JobTransaction {
  readonly #queries: JobQueries;
  readonly #recorder: ChangeRecorder;
  #open = true;
  #held: HeldWrite | undefined;

  constructor(queries: JobQueries, recorder: ChangeRecorder) {
    this.#queries = queries;
    this.#recorder = recorder;
  }

  /**
   * Called when the work has settled. A transaction object kept past its work would otherwise
   * write into whatever batch happens to be open, outside any savepoint of its own.
   */
  end(): void {
    this.#open = false;
    this.#held = undefined;
  }

  /** Writes the held update; called before anything else reads or writes, and when the work ends. */
  flush(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    this.#queries.rewrite(held.seq, held.columns, held.changed, held.doc, held.log.length === 0 ? undefined : held.log.join(','));
  }

  #check(): void {
    if (!this.#open) throw new Error('This transaction has ended; its work must await every call it makes');
    this.flush();
  }

  async get(id: string): Promise<StoredJob | undefined> {
    this.#check();
    const row = this.#queries.get(id);
    return row && decodeDoc(row.doc);
  }

  async find(filter: JobFilter): Promise<StoredJob[]> {
    this.#check();
    if (filter.ids === undefined) return this.#queries.select(filter).map((row) => decodeDoc(row.doc));
    return this.#rowsOf(filter.ids)
      .filter((row) => (filter.types?.includes(row.type) ?? true) && (filter.statuses?.includes(row.status) ?? true))
      .sort((a, b) => a.seq - b.seq)
      .map((row) => decodeDoc(row.doc));
  }

  async insert(job: StoredJob, log: readonly JobLogEntry[]): Promise<void> {
    this.#check();
    const seq = this.#queries.insert(jobColumns(job), encodeLogItems(log));
    this.#queries.setWords(seq, searchWords(job));
    this.#queries.setDepends(job._id, job.depends);
    this.#recorder.record(job._id, job.type, null, job.status, job);
  }

  async update(id: string, changes: JobChanges, guard?: UpdateGuard): Promise<boolean> {
    this.#check();
    const row = this.#queries.get(id);
    if (row === undefined) return false;
    const job = decodeDoc(row.doc);
    if (guard?.statuses !== undefined && !guard.statuses.includes(job.status)) return false;
    if (guard?.runId !== undefined && job.runId !== guard.runId) return false;
    const updated = mergeChanges(job, changes);
    const columns = indexColumns(updated);
    const changed = changedColumns(indexColumns(job), columns);
    this.#held = { id, seq: row.seq, columns, changed, doc: encodeDoc(updated), type: updated.type, status: updated.status, log: [] };
    // `depends` is the truth; its table is a copy kept for `dependentsOf` and promotion.
    if (Object.hasOwn(changes, 'depends')) this.#queries.setDepends(id, updated.depends ?? []);
    if (changesWords(Object.keys(changes))) {
      const words = searchWords(updated);
      if (words.join(' ') !== searchWords(job).join(' ')) this.#queries.setWords(row.seq, words);
    }
    this.#recorder.record(id, updated.type, job.status, updated.status, updated);
    return true;
  }

  /**
   * Appends to the log of an existing job (a missing job is left alone, as an update would).
   * It is reported to `onCommit` as a change with the same status, so a view of the job's log
   * knows to refresh.
   */
  async appendLog(id: string, entries: readonly JobLogEntry[]): Promise<void> {
    const held = this.#held;
    if (this.#open && held?.id === id) {
      if (entries.length === 0) return;
      held.log.push(encodeLogItems(entries));
      this.#recorder.record(id, held.type, held.status, held.status);
      return;
    }
    this.#check();
    if (entries.length === 0) return;
    const head = this.#queries.appendLog(id, encodeLogItems(entries));
    if (head === undefined) return;
    this.#recorder.record(id, head.type, head.status, head.status);
  }

  async remove(ids: readonly string[]): Promise<number> {
    this.#check();
    let removed = 0;
    for (const id of new Set(ids)) {
      const gone = this.#queries.delete(id);
      if (gone === undefined) continue;
      // Only its own pending rows go: jobs waiting on it keep waiting (docs/PROTOCOL.md §3.6).
      this.#queries.setDepends(id, []);
      this.#queries.unindexWords(gone.seq);
      this.#recorder.record(id, gone.type, gone.status, null);
      removed += 1;
    }
    return removed;
  }

  async nextReady(types: readonly string[], limit: number, parents?: readonly string[]): Promise<StoredJob[]> {
    this.#check();
    const count = Math.floor(limit);
    if (count <= 0) return [];
    if (parents !== undefined) {
      // A job's children are few: walk each parent's, keep the wanted types, merge in claim order.
      const wanted = new Set(types);
      const children: ClaimRow[] = [];
      for (const parent of new Set(parents)) children.push(...this.#queries.nextReadyChildren(parent, count).filter((row) => wanted.has(row.type)));
      return children.sort(claimOrder).slice(0, count).map((row) => decodeDoc(row.doc));
    }
    // One index walk per type, each stopping after `count` rows, then a merge: the index
    // cannot give one order across several types.
    const distinct = new Set(types);
    const rows: ClaimRow[] = [];
    for (const type of distinct) rows.push(...this.#queries.nextReady(type, count));
    if (distinct.size > 1) rows.sort(claimOrder);
    return rows.slice(0, count).map((row) => decodeDoc(row.doc));
  }

  async dependentsOf(ids: readonly string[], statuses?: readonly JobStatus[]): Promise<StoredJob[]> {
    this.#check();
    const bySeq = new Map<number, JobRow>();
    for (const id of new Set(ids)) {
      for (const row of this.#queries.dependents(id)) {
        if (statuses === undefined || statuses.includes(row.status)) bySeq.set(row.seq, row);
      }
    }
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq).map((row) => decodeDoc(row.doc));
  }

  async promotable(time: Date, options: { ids?: readonly string[]; ignoreDepends: boolean; limit?: number }): Promise<StoredJob[]> {
    this.#check();
    const at = time.getTime();
    if (options.ids === undefined) {
      return this.#queries.promotable(at, options.ignoreDepends, options.limit).map((row) => decodeDoc(row.doc));
    }
    const rows = this.#rowsOf(options.ids).filter(
      (row) =>
        row.status === 'waiting' &&
        row.after <= at &&
        (options.ignoreDepends || !this.#queries.hasPendingDepends(row.id)),
    );
    const due = rows.sort((a, b) => a.after - b.after || a.seq - b.seq);
    return (options.limit === undefined ? due : due.slice(0, options.limit)).map((row) => decodeDoc(row.doc));
  }

  async expired(time: Date): Promise<StoredJob[]> {
    this.#check();
    return this.#queries.expired(time.getTime()).map((row) => decodeDoc(row.doc));
  }

  async insertChain(chain: StoredChain): Promise<void> {
    this.#check();
    this.#queries.insertChain(chain._id, chain.status, chain.parent ?? null, encodeChain(chain));
  }

  async getChain(id: string): Promise<StoredChain | undefined> {
    this.#check();
    const row = this.#queries.chainRow(id);
    return row === undefined ? undefined : decodeChain(row);
  }

  async updateChain(id: string, changes: ChainChanges): Promise<boolean> {
    this.#check();
    const row = this.#queries.chainRow(id);
    if (row === undefined) return false;
    const { links: _links, ...state } = { ...decodeChain(row), ...changes };
    this.#queries.rewriteChain(id, state.status, encodeChainState(state));
    return true;
  }

  async removeChain(id: string): Promise<boolean> {
    this.#check();
    return this.#queries.deleteChain(id);
  }

  async chainsOf(parent: string, statuses?: readonly ChainStatus[]): Promise<StoredChain[]> {
    this.#check();
    return this.#queries
      .chainsOf(parent)
      .filter((row) => statuses === undefined || statuses.includes(row.status))
      .map((row) => decodeChain(row));
  }

  async addAnalytics(periods: readonly AnalyticsPeriod[]): Promise<void> {
    this.#check();
    for (const { resolution, type, at, ...counts } of periods) {
      const stored = this.#queries.analyticsCounts(resolution, at.getTime(), type);
      const total = stored === undefined ? emptyCounts() : (JSON.parse(stored) as AnalyticsCounts);
      addCounts(total, counts);
      this.#queries.writeAnalytics(resolution, at.getTime(), type, JSON.stringify(total));
    }
  }

  async pruneAnalytics(resolution: AnalyticsResolution, before: Date): Promise<void> {
    this.#check();
    this.#queries.pruneAnalytics(resolution, before.getTime());
  }

  #rowsOf(ids: readonly string[]): JobRow[] {
    const rows: JobRow[] = [];
    for (const id of new Set(ids)) {
      const row = this.#queries.get(id);
      if (row !== undefined) rows.push(row);
    }
    return rows;
  }
}

function claimOrder(a: ClaimRow, b: ClaimRow): number {
  return (
    a.priority - b.priority ||
    a.retry_until - b.retry_until ||
    a.after - b.after ||
    a.created - b.created ||
    a.seq - b.seq
  );
}
