/**
 * The SQL of `list` and `count`: a `JobQuery` (filter, words, time ranges) and a keyset page in
 * one of the list orders. A text query walks the search index (`job_text`, FTS5) newest saved
 * first and looks each match up by its row id, so it stops after a page's worth of matches
 * however many jobs hold the words.
 */
import { assertCursorKeys, type JobQuery, type ListCursor, type ListOrder } from '../job-store.ts';
import { queryWords } from '../search-words.ts';

export interface ListSql {
  sql: string;
  params: unknown[];
}

const rowColumns = 'j.seq, j.id, j.type, j.status, j.priority, j.after, j.created, j.updated, j.doc';

/** The list orders, and insertion order for the transaction's `find`. */
type RowOrder = ListOrder | 'insertion';

const orderBy: Record<RowOrder, string> = {
  'updated-desc': 'ORDER BY j.updated DESC, j.id DESC',
  'created-desc': 'ORDER BY j.created DESC, j.id DESC',
  priority: 'ORDER BY j.priority, j.created DESC, j.id DESC',
  'created-asc': 'ORDER BY j.created, j.seq',
  insertion: 'ORDER BY j.seq',
};

/** The FTS5 query of a text: every word, each quoted (no operator can slip in) and a prefix. */
export function matchExpression(text: string): string | undefined {
  const words = queryWords(text);
  if (words.length === 0) return undefined;
  return words.map((word) => `"${word.replaceAll('"', '""')}"*`).join(' ');
}

/** The conditions on `j` (a jobs row) that a query's filter and ranges make. */
function conditions(root: string, query: Omit<JobQuery, 'ids' | 'text'>): { where: string[]; params: unknown[] } {
  const where = ['j.root = ?'];
  const params: unknown[] = [root];
  if (query.types !== undefined) {
    where.push('j.type IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(query.types));
  }
  if (query.statuses !== undefined) {
    where.push('j.status IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(query.statuses));
  }
  for (const field of ['created', 'updated'] as const) {
    const range = query[field];
    if (range?.from !== undefined) {
      where.push(`j.${field} >= ?`);
      params.push(range.from.getTime());
    }
    if (range?.to !== undefined) {
      where.push(`j.${field} < ?`);
      params.push(range.to.getTime());
    }
  }
  return { where, params };
}

/** The cursor's sort keys for `order`, or a TypeError naming the one missing. */
function cursorKeys(order: RowOrder, cursor: ListCursor): SortableRow {
  if (order === 'insertion') throw new TypeError('pages after a job are not offered in insertion order');
  assertCursorKeys(order, cursor);
  return {
    seq: Number.POSITIVE_INFINITY,
    id: cursor.id,
    priority: cursor.priority ?? 0,
    created: cursor.created?.getTime() ?? 0,
    updated: cursor.updated?.getTime() ?? 0,
  };
}

/** Keyset condition: the rows after `cursor` in `order`. */
function afterCursor(order: RowOrder, cursor: ListCursor): { where: string; params: unknown[] } {
  const { id, updated, created, priority } = cursorKeys(order, cursor);
  switch (order) {
    case 'updated-desc':
      return { where: '(j.updated < ? OR (j.updated = ? AND j.id < ?))', params: [updated, updated, id] };
    case 'created-desc':
      return { where: '(j.created < ? OR (j.created = ? AND j.id < ?))', params: [created, created, id] };
    default:
      return {
        where: '(j.priority > ? OR (j.priority = ? AND (j.created < ? OR (j.created = ? AND j.id < ?))))',
        params: [priority, priority, created, created, id],
      };
  }
}

/** The rows of a query (ids excluded: the caller looks those up one by one), at most `limit`. */
export function listSql(root: string, query: Omit<JobQuery, 'ids'>, order: RowOrder, limit: number, after?: ListCursor): ListSql {
  const { where, params } = conditions(root, query);
  const match = query.text === undefined ? undefined : matchExpression(query.text);
  if (match !== undefined) {
    // The index as the outer loop, newest saved first; each match is one primary-key lookup.
    const ftsWhere = ['job_text MATCH ?'];
    const ftsParams: unknown[] = [match];
    if (after !== undefined) {
      ftsWhere.push('job_text.rowid < (SELECT seq FROM jobs WHERE root = ? AND id = ?)');
      ftsParams.push(root, after.id);
    }
    return {
      sql:
        `SELECT ${rowColumns} FROM job_text JOIN jobs j ON j.seq = job_text.rowid ` +
        `WHERE ${[...ftsWhere, ...where].join(' AND ')} ORDER BY job_text.rowid DESC LIMIT ?`,
      params: [...ftsParams, ...params, limit],
    };
  }
  if (after !== undefined) {
    const keyset = afterCursor(order, after);
    where.push(keyset.where);
    params.push(...keyset.params);
  }
  return { sql: `SELECT ${rowColumns} FROM jobs j WHERE ${where.join(' AND ')} ${orderBy[order]} LIMIT ?`, params: [...params, limit] };
}

/** How many rows a query selects (ids excluded). */
export function countSql(root: string, query: Omit<JobQuery, 'ids'>): ListSql {
  const { where, params } = conditions(root, query);
  const match = query.text === undefined ? undefined : matchExpression(query.text);
  if (match === undefined) return { sql: `SELECT count(*) AS n FROM jobs j WHERE ${where.join(' AND ')}`, params };
  return {
    sql: `SELECT count(*) AS n FROM job_text JOIN jobs j ON j.seq = job_text.rowid WHERE job_text MATCH ? AND ${where.join(' AND ')}`,
    params: [match, ...params],
  };
}

/** Whether a job row matches a query's filter and ranges (text is checked apart): for queries by id. */
export function rowMatches(row: { type: string; status: string; created: number; updated: number }, query: Omit<JobQuery, 'ids' | 'text'>): boolean {
  if (query.types !== undefined && !query.types.includes(row.type)) return false;
  if (query.statuses !== undefined && !(query.statuses as readonly string[]).includes(row.status)) return false;
  for (const field of ['created', 'updated'] as const) {
    const range = query[field];
    if (range?.from !== undefined && row[field] < range.from.getTime()) return false;
    if (range?.to !== undefined && row[field] >= range.to.getTime()) return false;
  }
  return true;
}

/** The keys a list order sorts on, as a row holds them. */
export interface SortableRow {
  seq: number;
  id: string;
  priority: number;
  created: number;
  updated: number;
}

const byIdDesc = (a: SortableRow, b: SortableRow) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The list orders in JavaScript, for queries by ids; `saved-desc` is a text query's. */
export function compareRows(a: SortableRow, b: SortableRow, order: ListOrder | 'saved-desc'): number {
  switch (order) {
    case 'updated-desc':
      return b.updated - a.updated || byIdDesc(a, b);
    case 'created-desc':
      return b.created - a.created || byIdDesc(a, b);
    case 'priority':
      return a.priority - b.priority || b.created - a.created || byIdDesc(a, b);
    case 'created-asc':
      return a.created - b.created || a.seq - b.seq;
    case 'saved-desc':
      return b.seq - a.seq;
  }
}

/** Whether `row` comes after the cursor's job in `order` (a text query's cursor is checked by the caller). */
export function listsAfter(row: SortableRow, cursor: ListCursor, order: ListOrder): boolean {
  return compareRows(cursorKeys(order, cursor), row, order) < 0;
}
