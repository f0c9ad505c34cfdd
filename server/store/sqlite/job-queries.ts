/**
 * The SQL of one collection root on one connection, as prepared statements made on first use
 * and kept. The transaction writes through the writer connection's instance; the store reads
 * committed data through the read-only connection's instance.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { AnalyticsResolution } from '../../../shared/analytics.ts';
import type { ChainStatus } from '../../../shared/chains.ts';
import type { JobStatus } from '../../../shared/constants.ts';
import type { JobFilter, JobQuery, ListCursor, ListOrder } from '../job-store.ts';
import { countSql, listSql, matchExpression } from './list-query.ts';
import { columnNames, type IndexColumns, type JobColumns } from './row-codec.ts';

/** A job row as the queries return it: the document text and what JavaScript sorts on. */
export interface JobRow {
  seq: number;
  id: string;
  type: string;
  status: JobStatus;
  priority: number;
  after: number;
  created: number;
  updated: number;
  doc: string;
}

/** A row of the claim query, with every key of the claim order. */
export interface ClaimRow extends JobRow {
  retry_until: number;
}

const rowColumns = 'seq, id, type, status, priority, after, created, updated, doc';

/** The claim query for one type; it walks `jobs_claim` in order and stops after `limit` rows. */
export const nextReadySql =
  `SELECT ${rowColumns}, retry_until FROM jobs ` +
  "WHERE root = ? AND status = 'ready' AND type = ? AND run_id IS NULL " +
  'ORDER BY priority, retry_until, after, created, seq LIMIT ?';

/** The claim query for the children of one job; it walks `jobs_children` in order. */
export const nextReadyChildrenSql =
  `SELECT ${rowColumns}, retry_until FROM jobs ` +
  "WHERE root = ? AND parent = ? AND status = 'ready' AND run_id IS NULL " +
  'ORDER BY priority, retry_until, after, created, seq LIMIT ?';

const noPendingDepends =
  'NOT EXISTS (SELECT 1 FROM job_depends d WHERE d.root = jobs.root AND d.dependent = jobs.id)';

const waitingDueSql = `SELECT ${rowColumns} FROM jobs WHERE root = ? AND status = 'waiting' AND after <= ?`;

// LIMIT -1 is SQLite for no limit.
export const promotableSql = `${waitingDueSql} AND ${noPendingDepends} ORDER BY after, seq LIMIT ?`;

export const expiredSql =
  `SELECT ${rowColumns} FROM jobs WHERE root = ? AND status = 'running' AND expires_after < ? ` +
  'ORDER BY expires_after, seq';

export const dependentsSql =
  'SELECT j.seq, j.id, j.type, j.status, j.priority, j.after, j.created, j.updated, j.doc FROM job_depends d ' +
  'JOIN jobs j ON j.root = d.root AND j.id = d.dependent WHERE d.root = ? AND d.antecedent = ?';

export const nextPromotionSql =
  `SELECT after FROM jobs WHERE root = ? AND status = 'waiting' AND ${noPendingDepends} ORDER BY after LIMIT 1`;

/** The log column with `@items` appended. */
const appendedLog = "CASE log WHEN '' THEN @items ELSE log || ',' || @items END";


/** The statements of one root on one connection; every query is filtered by that root. */
export class JobQueries {
  readonly #db: Database;
  readonly #root: string;
  readonly #statements = new Map<string, Statement>();

  constructor(db: Database, root: string) {
    this.#db = db;
    this.#root = root;
  }

  #statement(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  get(id: string): JobRow | undefined {
    return this.#statement(`SELECT ${rowColumns} FROM jobs WHERE root = ? AND id = ?`).get(this.#root, id) as
      | JobRow
      | undefined;
  }

  hasPendingDepends(id: string): boolean {
    const sql = 'SELECT 1 FROM job_depends WHERE root = ? AND dependent = ? LIMIT 1';
    return this.#statement(sql).get(this.#root, id) !== undefined;
  }

  /**
   * Rows matching the type and status criteria (ids are looked up one by one by the caller),
   * in insertion order. An empty list matches nothing, as Mongo's `$in: []` does.
   */
  select(filter: Omit<JobFilter, 'ids'>): JobRow[] {
    const { sql, params } = listSql(this.#root, filter, 'insertion', -1);
    return this.#statement(sql).all(...params) as JobRow[];
  }

  /** A page of the rows a query selects (ids excluded), in `order` after `after`. */
  list(query: Omit<JobQuery, 'ids'>, order: ListOrder, limit: number, after?: ListCursor): JobRow[] {
    const { sql, params } = listSql(this.#root, query, order, limit, after);
    return this.#statement(sql).all(...params) as JobRow[];
  }

  count(query: Omit<JobQuery, 'ids'>): number {
    const { sql, params } = countSql(this.#root, query);
    return (this.#statement(sql).get(...params) as { n: number }).n;
  }

  /** The search words of the job at row `seq` (search-words.ts), replacing any it had. */
  setWords(seq: number, words: readonly string[]): void {
    this.unindexWords(seq);
    if (words.length > 0) this.#statement('INSERT INTO job_text (rowid, words) VALUES (?, ?)').run(seq, words.join(' '));
  }

  unindexWords(seq: number): void {
    this.#statement('DELETE FROM job_text WHERE rowid = ?').run(seq);
  }

  /** Whether the job at `seq` holds every query word as a prefix of one of its words. */
  matchesText(seq: number, text: string): boolean {
    const match = matchExpression(text);
    if (match === undefined) return true;
    // A range, not `rowid = ?`: FTS5 ignores an equality on the rowid with a bound number
    // (better-sqlite3 binds it as a real) when the query also has a MATCH.
    const sql = 'SELECT 1 FROM job_text WHERE job_text MATCH ? AND rowid BETWEEN ? AND ?';
    return this.#statement(sql).get(match, seq, seq) !== undefined;
  }

  nextReady(type: string, limit: number): ClaimRow[] {
    return this.#statement(nextReadySql).all(this.#root, type, limit) as ClaimRow[];
  }

  /** Claimable children of `parent`, of any type, in claim order. */
  nextReadyChildren(parent: string, limit: number): ClaimRow[] {
    return this.#statement(nextReadyChildrenSql).all(this.#root, parent, limit) as ClaimRow[];
  }

  dependents(antecedent: string): JobRow[] {
    return this.#statement(dependentsSql).all(this.#root, antecedent) as JobRow[];
  }

  /** Waiting jobs due at `time`; without pending depends unless `ignoreDepends`. */
  promotable(time: number, ignoreDepends: boolean, limit = -1): JobRow[] {
    const sql = ignoreDepends ? `${waitingDueSql} ORDER BY after, seq LIMIT ?` : promotableSql;
    return this.#statement(sql).all(this.#root, time, limit) as JobRow[];
  }

  expired(time: number): JobRow[] {
    return this.#statement(expiredSql).all(this.#root, time) as JobRow[];
  }

  nextPromotion(): number | undefined {
    const row = this.#statement(nextPromotionSql).get(this.#root) as { after: number } | undefined;
    return row?.after;
  }

  counts(): { type: string; status: JobStatus; n: number }[] {
    const sql = 'SELECT type, status, count(*) AS n FROM jobs WHERE root = ? GROUP BY type, status';
    return this.#statement(sql).all(this.#root) as { type: string; status: JobStatus; n: number }[];
  }

  /** Whole rows (document and log) in id order after `afterId`, at most `limit`. */
  scan(afterId: string | undefined, limit: number): { doc: string; log: string }[] {
    const sql = 'SELECT doc, log FROM jobs WHERE root = ? AND id > ? ORDER BY id LIMIT ?';
    return this.#statement(sql).all(this.#root, afterId ?? '', limit) as { doc: string; log: string }[];
  }

  /** Chain rows in id order after `afterId`, at most `limit`. */
  scanChains(afterId: string | undefined, limit: number): { links: string; doc: string }[] {
    const sql = 'SELECT links, doc FROM chains WHERE root = ? AND id > ? ORDER BY id LIMIT ?';
    return this.#statement(sql).all(this.#root, afterId ?? '', limit) as { links: string; doc: string }[];
  }

  /** The job's log column (`encodeLogItems`), or undefined if there is no such job. */
  log(id: string): string | undefined {
    const row = this.#statement('SELECT log FROM jobs WHERE root = ? AND id = ?').get(this.#root, id) as { log: string } | undefined;
    return row?.log;
  }

  /** Inserts a job row; `log` is its first log entries, as `encodeLogItems` gives them. Returns its seq. */
  insert(columns: JobColumns, log: string): number {
    const sql =
      'INSERT INTO jobs (root, id, type, status, priority, retry_until, after, created, updated, run_id, expires_after, parent, doc, log) ' +
      'VALUES (@root, @id, @type, @status, @priority, @retryUntil, @after, @created, @updated, @runId, @expiresAfter, @parent, @doc, @log)';
    return Number(this.#statement(sql).run({ root: this.#root, ...columns, log }).lastInsertRowid);
  }

  /**
   * Writes the document of the row at `seq` and those of its indexed fields that `changed`
   * names: an index whose columns are not set is not touched (the id cannot change). `log`,
   * when given, is appended to the row's log in the same write.
   */
  rewrite(seq: number, columns: IndexColumns, changed: readonly (keyof IndexColumns)[], doc: string, log?: string): void {
    const params: Record<string, unknown> = { seq, doc };
    let set = '';
    for (const key of changed) {
      if (key === 'id') continue;
      set += `${columnNames[key]} = @${key}, `;
      params[key] = columns[key];
    }
    if (log !== undefined) {
      set += `log = ${appendedLog}, `;
      params.items = log;
    }
    this.#statement(`UPDATE jobs SET ${set}doc = @doc WHERE seq = @seq`).run(params);
  }

  /**
   * Appends log items (`encodeLogItems`) to an existing job's log in place; returns the job's
   * type and status, or undefined if there is no such job.
   */
  appendLog(id: string, items: string): { type: string; status: JobStatus } | undefined {
    const sql = `UPDATE jobs SET log = ${appendedLog} WHERE root = @root AND id = @id RETURNING type, status`;
    return this.#statement(sql).get({ root: this.#root, id, items }) as { type: string; status: JobStatus } | undefined;
  }

  /** Deletes the job row; returns what it was, or undefined if there was none. */
  delete(id: string): { seq: number; type: string; status: JobStatus } | undefined {
    const sql = 'DELETE FROM jobs WHERE root = ? AND id = ? RETURNING seq, type, status';
    return this.#statement(sql).get(this.#root, id) as { seq: number; type: string; status: JobStatus } | undefined;
  }

  insertChain(id: string, status: ChainStatus, parent: string | null, encoded: { links: string; doc: string }): void {
    const sql = 'INSERT INTO chains (root, id, status, parent, links, doc) VALUES (?, ?, ?, ?, ?, ?)';
    this.#statement(sql).run(this.#root, id, status, parent, encoded.links, encoded.doc);
  }

  chainRow(id: string): { links: string; doc: string } | undefined {
    return this.#statement('SELECT links, doc FROM chains WHERE root = ? AND id = ?').get(this.#root, id) as { links: string; doc: string } | undefined;
  }

  /** Rewrites a chain's state; its links never change. */
  rewriteChain(id: string, status: ChainStatus, doc: string): void {
    this.#statement('UPDATE chains SET status = ?, doc = ? WHERE root = ? AND id = ?').run(status, doc, this.#root, id);
  }

  deleteChain(id: string): boolean {
    return this.#statement('DELETE FROM chains WHERE root = ? AND id = ?').run(this.#root, id).changes > 0;
  }

  chainsOf(parent: string): { status: ChainStatus; links: string; doc: string }[] {
    const sql = 'SELECT status, links, doc FROM chains WHERE root = ? AND parent = ? ORDER BY seq';
    return this.#statement(sql).all(this.#root, parent) as { status: ChainStatus; links: string; doc: string }[];
  }

  analyticsCounts(resolution: AnalyticsResolution, at: number, type: string): string | undefined {
    const sql = 'SELECT counts FROM job_analytics WHERE root = ? AND resolution = ? AND at = ? AND type = ?';
    return (this.#statement(sql).get(this.#root, resolution, at, type) as { counts: string } | undefined)?.counts;
  }

  writeAnalytics(resolution: AnalyticsResolution, at: number, type: string, counts: string): void {
    const sql = 'INSERT OR REPLACE INTO job_analytics (root, resolution, at, type, counts) VALUES (?, ?, ?, ?, ?)';
    this.#statement(sql).run(this.#root, resolution, at, type, counts);
  }

  pruneAnalytics(resolution: AnalyticsResolution, before: number): void {
    this.#statement('DELETE FROM job_analytics WHERE root = ? AND resolution = ? AND at < ?').run(this.#root, resolution, before);
  }

  analytics(resolution: AnalyticsResolution, since: number): { at: number; type: string; counts: string }[] {
    const sql = 'SELECT at, type, counts FROM job_analytics WHERE root = ? AND resolution = ? AND at >= ?';
    return this.#statement(sql).all(this.#root, resolution, since) as { at: number; type: string; counts: string }[];
  }

  /** Makes the pending-dependency rows of `dependent` exactly `antecedents`. */
  setDepends(dependent: string, antecedents: readonly string[]): void {
    this.#statement('DELETE FROM job_depends WHERE root = ? AND dependent = ?').run(this.#root, dependent);
    const insert = this.#statement('INSERT OR IGNORE INTO job_depends (root, dependent, antecedent) VALUES (?, ?, ?)');
    for (const antecedent of antecedents) insert.run(this.#root, dependent, antecedent);
  }
}
