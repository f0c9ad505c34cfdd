/**
 * Jobs as documents of `<root>.jobs`, in jobCollection's shape (docs/PROTOCOL.md §3.1): the
 * same field names and types a Meteor jobCollection writes, the log inside the document, so a
 * Meteor app's collection is served as it is. Three additions, all ignored by jobCollection:
 * `_private` (jobCollection's own name for server-only state), `_seq`, the insertion order
 * that breaks ties in claim order, and `_words`, the job's search words (search-words.ts).
 *
 * Values are stored as Meteor stores EJSON: binary as BSON binary, a custom EJSON type as
 * `{EJSON$type, EJSON$value}`; a key of the job's own data that starts with `$` is kept as
 * `EJSON$…`, which MongoDB accepts in every position.
 */
import EJSON from 'ejson';
import { Binary, type Document } from 'mongodb';
import { z } from 'zod';
import type { JobDoc, JobLogEntry } from '../../../shared/job-doc.ts';
import { jobStatus } from '../../../shared/schemas.ts';
import type { StoredChain, StoredJob } from '../job-store.ts';
import { searchWords } from '../search-words.ts';

const escapedPrefix = 'EJSON';

const fromJsonValue = EJSON.fromJSONValue as (value: unknown) => unknown;

/** An EJSON custom type (EJSON.addType): it names its type and gives its JSON value. */
function isCustomType(value: object): value is { typeName(): string; toJSONValue(): unknown } {
  const candidate = value as { typeName?: unknown; toJSONValue?: unknown };
  return typeof candidate.typeName === 'function' && typeof candidate.toJSONValue === 'function';
}

/** A JavaScript value as MongoDB should keep it. */
export function toMongoValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (value instanceof Uint8Array) return new Binary(value);
  if (Array.isArray(value)) return value.map(toMongoValue);
  if (isCustomType(value)) {
    return { [`${escapedPrefix}$type`]: value.typeName(), [`${escapedPrefix}$value`]: toMongoValue(value.toJSONValue()) };
  }
  const result: Document = {};
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined) continue;
    result[key.startsWith('$') ? `${escapedPrefix}${key}` : key] = toMongoValue(field);
  }
  return result;
}

/** The reverse of `toMongoValue`, for whatever the driver returns. */
export function fromMongoValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (value instanceof Binary) return new Uint8Array(value.buffer.subarray(0, value.position));
  if (Array.isArray(value)) return value.map(fromMongoValue);
  const source = value as Document;
  const typeKey = `${escapedPrefix}$type`;
  const valueKey = `${escapedPrefix}$value`;
  if (typeKey in source && valueKey in source && Object.keys(source).length === 2) {
    return fromJsonValue({ $type: source[typeKey], $value: fromMongoValue(source[valueKey]) });
  }
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(source)) {
    result[key.startsWith(`${escapedPrefix}$`) ? key.slice(escapedPrefix.length) : key] = fromMongoValue(field);
  }
  return result;
}

/** A new job's document: its fields, its log, and its place in insertion order. */
export function jobDocument(job: StoredJob, log: readonly JobLogEntry[], seq: number): Document {
  const doc = toMongoValue(job) as Document;
  const withLog: Document = {};
  // The log sits where jobCollection has it, between expiresAfter and progress.
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'progress') withLog.log = log.map((entry) => toMongoValue(entry));
    withLog[key] = value;
  }
  withLog.log ??= log.map((entry) => toMongoValue(entry));
  withLog._seq = seq;
  withLog._words = searchWords(job);
  return withLog;
}

/** What the store relies on in a stored document; anything else a Meteor app added is kept. */
const storedShape = z.looseObject({
  _id: z.string(),
  runId: z.string().nullable(),
  type: z.string(),
  status: jobStatus,
  data: z.record(z.string(), z.unknown()),
  priority: z.number(),
  depends: z.array(z.string()),
  resolved: z.array(z.string()),
  after: z.date(),
  updated: z.date(),
  created: z.date(),
  progress: z.looseObject({ completed: z.number(), total: z.number(), percent: z.number() }),
  retries: z.number(),
  retried: z.number(),
  retryUntil: z.date(),
  retryWait: z.number(),
  retryBackoff: z.string(),
  repeats: z.number(),
  repeated: z.number(),
  repeatUntil: z.date(),
  repeatWait: z.union([z.number(), z.record(z.string(), z.unknown())]),
});

/** Why a stored document cannot be served as a job, or undefined when it can. */
export function shapeProblem(doc: Document): string | undefined {
  const checked = storedShape.safeParse(doc);
  if (checked.success) return undefined;
  const issue = checked.error.issues[0];
  return issue === undefined ? 'not a job document' : `${issue.path.join('.') || 'document'}: ${issue.message}`;
}

/**
 * A stored document as the job it holds, keys in the order stored (updates keep them in
 * document order, see `orderedUpdate`), without the fields the caller did not ask for (`log`,
 * `failures`). Call `shapeProblem` first on documents that may not be Cumulus' own.
 */
export function jobFromDocument(doc: Document, include: { log?: boolean; failures?: boolean } = {}): JobDoc & StoredJob {
  const decoded = fromMongoValue(doc) as Record<string, unknown>;
  const keys = Object.keys(decoded).filter(
    (key) => key !== '_seq' && key !== '_words' && (include.log === true || key !== 'log') && (include.failures !== false || key !== 'failures'),
  );
  const job: Record<string, unknown> = {};
  for (const key of keys) job[key] = decoded[key];
  if (include.log === true) job.log ??= [];
  return job as unknown as JobDoc & StoredJob;
}

/** A chain as stored in `<root>.chains`: the same fields, values kept as jobs' are. */
export function chainDocument(chain: StoredChain): Document {
  return toMongoValue(chain) as Document;
}

export function chainFromDocument(doc: Document): StoredChain {
  return fromMongoValue(doc) as StoredChain;
}
