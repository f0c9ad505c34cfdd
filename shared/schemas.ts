/**
 * Argument predicates with the semantics of Meteor's `check` as jobCollection uses it
 * (docs/PROTOCOL.md §2.2): strict object patterns, `Optional` that refuses null, int32 priorities.
 */
import { z } from 'zod';
import { jobLogLevels, jobRetryBackoffMethods, jobStatuses } from './constants.ts';
import type { JobLogEntry, LaterSchedule } from './job-doc.ts';

/** A plain object (`{…}` or `Object.create(null)`), as Meteor's `Object` pattern means it. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Meteor's `Object` pattern: any plain object, extra keys allowed. */
export const plainObject = z.custom<Record<string, unknown>>(isPlainObject, { message: 'Expected a plain object' });

/** Meteor's `Match.Integer`: a 32-bit integer. */
export const int32 = z.number().refine((v) => (v | 0) === v, { message: 'Expected a 32-bit integer' });

const isWhole = (v: number): boolean => Math.floor(v) === v;
export const intGTE0 = z.number().min(0).refine(isWhole, { message: 'Expected a whole number' });
export const intGTE1 = z.number().min(1).refine(isWhole, { message: 'Expected a whole number' });
export const numGTE0 = z.number().min(0);
export const numGT0 = z.number().gt(0);

/**
 * A job id: a string, or a Mongo ObjectID (anything with `toHexString`), which Cumulus
 * never assigns and so reads as its hex text.
 */
export const id = z.union([
  z.string(),
  z.custom<{ toHexString(): string }>(
    (v) => typeof v === 'object' && v !== null && typeof (v as { toHexString?: unknown }).toHexString === 'function',
    { message: 'Expected an id string' },
  ).transform((v) => v.toHexString()),
]);
export const ids = z.union([id, z.array(id)]);

export const jobStatus = z.enum(jobStatuses);
export const logLevel = z.enum(jobLogLevels);
export const retryBackoff = z.enum(jobRetryBackoffMethods);

export const laterSchedule: z.ZodType<LaterSchedule> = z.strictObject({
  schedules: z.array(plainObject),
  exceptions: z.array(plainObject).optional(),
});

/** A repeat or rerun wait: milliseconds, or a later.js schedule (upstream accepted anything, §5.12). */
export const waitOrSchedule = z.union([intGTE0, laterSchedule]);

export const progress = z.strictObject({ completed: numGTE0, total: numGTE0, percent: numGTE0 });

export const logEntry: z.ZodType<JobLogEntry> = z.strictObject({
  time: z.date(),
  runId: id.nullable(),
  level: logLevel,
  message: z.string(),
  data: plainObject.optional(),
});

/** Exactly the keys `jobSave` accepts (docs/PROTOCOL.md §3.1); an unknown key is a 400. */
export const jobSaveDoc = z.strictObject({
  _id: id.nullable().optional(),
  runId: id.nullable(),
  type: z.string(),
  status: jobStatus,
  data: plainObject,
  result: plainObject.optional(),
  failures: z.array(plainObject).optional(),
  priority: int32,
  depends: z.array(id),
  resolved: z.array(id),
  after: z.date(),
  updated: z.date(),
  created: z.date(),
  workTimeout: intGTE1.optional(),
  expiresAfter: z.date().optional(),
  log: z.array(logEntry).optional(),
  progress,
  retries: intGTE0,
  retried: intGTE0,
  repeatRetries: intGTE0.optional(),
  retryUntil: z.date(),
  retryWait: intGTE0,
  retryBackoff,
  repeats: intGTE0,
  repeated: intGTE0,
  repeatUntil: z.date(),
  repeatWait: waitOrSchedule,
  /** Cumulus: what the work is about within its type (Atmosphere's job name). */
  name: z.string().optional(),
  // Fields only the server writes: a client saving a document it read back (meteor-job re-saves
  // a paused job as it got it) may send them; they are accepted and ignored.
  chain: z.unknown().optional(),
  parent: z.unknown().optional(),
  worker: z.unknown().optional(),
});
export type JobSaveDoc = z.output<typeof jobSaveDoc>;
