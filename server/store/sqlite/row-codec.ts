/**
 * A job document to and from its row. The document is stored whole as EJSON text, so Dates,
 * binary, NaN and registered custom types (ObjectIDs) come back as they went in, keys in the
 * same order; the derived columns are plain numbers and strings for the indexes.
 */
import { fromEjsonText, toEjsonText } from '../../../shared/ejson-text.ts';
import { jobLogLevels, type LogLevel } from '../../../shared/constants.ts';
import type { JobLogEntry } from '../../../shared/job-doc.ts';
import type { StoredChain, StoredJob } from '../job-store.ts';

/** The indexed copies of a document's fields, named as the SQL parameters. */
export interface IndexColumns {
  id: string;
  type: string;
  status: string;
  priority: number;
  retryUntil: number;
  after: number;
  created: number;
  updated: number;
  runId: string | null;
  expiresAfter: number | null;
  parent: string | null;
}

/** A job's row: its indexed fields and its document text. */
export interface JobColumns extends IndexColumns {
  doc: string;
}

/** The SQL column of each indexed field. */
export const columnNames: Readonly<Record<keyof IndexColumns, string>> = {
  id: 'id',
  type: 'type',
  status: 'status',
  priority: 'priority',
  retryUntil: 'retry_until',
  after: 'after',
  created: 'created',
  updated: 'updated',
  runId: 'run_id',
  expiresAfter: 'expires_after',
  parent: 'parent',
};

/** The document text. `log` never goes in it: it lives in a column of its own and only grows. */
export function encodeDoc(job: StoredJob): string {
  if ('log' in job) {
    const { log: _log, ...rest } = job as StoredJob & { log?: unknown };
    return toEjsonText(rest);
  }
  return toEjsonText(job);
}

export function decodeDoc(text: string): StoredJob {
  return fromEjsonText(text) as StoredJob;
}

/** A chain's links (written once) and the rest of it (rewritten as it advances), as EJSON texts. */
export function encodeChain(chain: StoredChain): { links: string; doc: string } {
  const { links, ...rest } = chain;
  return { links: toEjsonText(links), doc: toEjsonText(rest) };
}

export function encodeChainState(chain: Omit<StoredChain, 'links'>): string {
  return toEjsonText(chain);
}

export function decodeChain(row: { links: string; doc: string }): StoredChain {
  return { ...(fromEjsonText(row.doc) as Omit<StoredChain, 'links'>), links: fromEjsonText(row.links) as StoredChain['links'] };
}

/**
 * Log entries as a row's log column keeps them: the items of a JSON array without its
 * brackets, so that appending is concatenating (with a comma when the log is not empty). An
 * entry of the usual shape is an array `[time ms, runId, level index, message, data?]`, half
 * the size of the entry as an EJSON object (a job writes five or more); anything else (another
 * key, an unknown level, a Meteor app's odd entry) is kept as the EJSON object it is.
 */
export function encodeLogItems(entries: readonly JobLogEntry[]): string {
  return entries.map((entry) => toEjsonText(compactLogEntry(entry) ?? entry)).join(',');
}

/** A row's log column as entries, whichever way each was kept. */
export function decodeLog(items: string): JobLogEntry[] {
  return (fromEjsonText(`[${items}]`) as unknown[]).map((item) => (Array.isArray(item) ? expandLogEntry(item) : (item as JobLogEntry)));
}

/** The array form of an entry, if it has exactly the usual keys, in the usual order, with valid values. */
function compactLogEntry(entry: JobLogEntry): unknown[] | undefined {
  const level = jobLogLevels.indexOf(entry.level);
  const shape = entry.data === undefined ? 'time,runId,level,message' : 'time,runId,level,message,data';
  if (Object.keys(entry).join() !== shape || level === -1 || typeof entry.message !== 'string') return undefined;
  if (!(entry.time instanceof Date) || Number.isNaN(entry.time.getTime())) return undefined;
  if (entry.runId !== null && typeof entry.runId !== 'string') return undefined;
  const compact: unknown[] = [entry.time.getTime(), entry.runId, level, entry.message];
  if (entry.data !== undefined) compact.push(entry.data);
  return compact;
}

function expandLogEntry([time, runId, level, message, data]: unknown[]): JobLogEntry {
  const entry: JobLogEntry = {
    time: new Date(time as number),
    runId: runId as string | null,
    level: jobLogLevels[level as number] as LogLevel,
    message: message as string,
  };
  if (data !== undefined) entry.data = data as Record<string, unknown>;
  return entry;
}

/** The row of a document; throws when a field the indexes need has the wrong type. */
export function jobColumns(job: StoredJob): JobColumns {
  return { ...indexColumns(job), doc: encodeDoc(job) };
}

/** The indexed fields of a document; throws when one has the wrong type. */
export function indexColumns(job: StoredJob): IndexColumns {
  return {
    id: job._id,
    type: job.type,
    status: job.status,
    priority: job.priority,
    retryUntil: timeOf(job, 'retryUntil'),
    after: timeOf(job, 'after'),
    created: timeOf(job, 'created'),
    updated: timeOf(job, 'updated'),
    runId: job.runId ?? null,
    expiresAfter: job.expiresAfter === undefined ? null : timeOf(job, 'expiresAfter'),
    parent: job.parent ?? null,
  };
}

/** The indexed fields whose value differs between two rows of one job. */
export function changedColumns(before: IndexColumns, after: IndexColumns): (keyof IndexColumns)[] {
  return (Object.keys(after) as (keyof IndexColumns)[]).filter((key) => before[key] !== after[key]);
}

function timeOf(job: StoredJob, field: 'retryUntil' | 'after' | 'created' | 'updated' | 'expiresAfter'): number {
  const value: unknown = job[field];
  // An invalid Date would sort as NULL and silently drop out of claim and promotion order.
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new TypeError(`Job ${job._id}: ${field} must be a valid Date`);
  }
  return value.getTime();
}

