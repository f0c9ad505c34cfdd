/**
 * The job document a producer builds, field for field what meteor-job 1.5.2 sends: the
 * defaults of `new Job(root, type, data)` and what each builder call stores (docs/PROTOCOL.md §3.1).
 * Plain functions over the document; `Job` wraps them in its chainable methods.
 */
import {
  defaultWaitMs, forever, foreverDate, jobLogLevels, jobPriorities, jobRetryBackoffMethods,
  type JobPriorityName, type LogLevel, type RetryBackoff,
} from '../shared/constants.ts';
import type { JobDoc, LaterSchedule } from '../shared/job-doc.ts';

export type JobData = Record<string, unknown>;

/**
 * A job document on the client: what `new Job()` builds (no `_id` until saved) or what the
 * server returned.
 */
export type JobDocument<Data extends JobData = JobData> = Omit<JobDoc, '_id' | 'data'> & { _id?: string; data: Data };

export interface RetryOptions {
  /** Retries after the first attempt; default: forever. */
  retries?: number;
  /** Milliseconds before a retry; default 5 minutes. */
  wait?: number;
  backoff?: RetryBackoff;
  /** No retry after this time. */
  until?: Date;
}

export interface RepeatOptions {
  /** Repeats after the first run; default: forever. */
  repeats?: number;
  /** Milliseconds between runs; default 5 minutes. Excludes `schedule`. */
  wait?: number;
  /** A later.js schedule (`later.parse.text('every 5 min')`); only `schedules`/`exceptions` are kept. */
  schedule?: LaterSchedule;
  until?: Date;
}

function isWholeAtLeast(value: unknown, min: number): value is number {
  return typeof value === 'number' && Math.floor(value) === value && value >= min;
}

/** `new Job(root, type, data)`: meteor-job's constructor and its default builder chain. */
export function newJobDocument<Data extends JobData>(type: string, data: Data, now = new Date()): JobDocument<Data> {
  if (typeof type !== 'string') throw new TypeError('new Job: type must be a string');
  if (typeof data !== 'object' || data === null) throw new TypeError('new Job: data must be an object');
  // Keys in meteor-job's order: the constructor's own, then priority, retry, repeat, after,
  // progress, depends and the "Constructed" log entry.
  return {
    runId: null,
    type,
    data,
    status: 'waiting',
    updated: now,
    created: now,
    priority: 0,
    ...retryFields(0),
    retried: 0,
    ...repeatFields(0),
    repeated: 0,
    after: new Date(0),
    progress: { completed: 0, total: 1, percent: 0 },
    depends: [],
    resolved: [],
    log: [{ time: now, runId: null, level: 'info', message: 'Constructed' }],
  } as JobDocument<Data>;
}

export function priorityValue(level: JobPriorityName | number = 0): number {
  if (typeof level === 'string') {
    const value = (jobPriorities as Record<string, number>)[level];
    if (value === undefined) throw new Error(`Invalid priority level '${level}'`);
    return value;
  }
  if (!isWholeAtLeast(level, -Infinity)) throw new Error('priority must be an integer or a priority name');
  return level;
}

type RetryFields = Pick<JobDoc, 'retries' | 'repeatRetries' | 'retryWait' | 'retryBackoff' | 'retryUntil'>;

/** `retry(n)` gives n+1 attempts; `retry({...})` without `retries` retries forever. */
export function retryFields(options: number | RetryOptions = 0): RetryFields {
  const given = typeof options === 'number' ? { retries: options } : options;
  if (typeof given !== 'object' || given === null) throw new Error('retry accepts an integer >= 0 or an options object');
  let retries = forever;
  if (given.retries !== undefined) {
    if (!isWholeAtLeast(given.retries, 0)) throw new Error('bad option: retries must be an integer >= 0');
    retries = given.retries + 1;
  }
  if (given.until !== undefined && !(given.until instanceof Date)) throw new Error('bad option: until must be a Date object');
  if (given.wait !== undefined && !isWholeAtLeast(given.wait, 0)) throw new Error('bad option: wait must be an integer >= 0');
  if (given.backoff !== undefined && !jobRetryBackoffMethods.includes(given.backoff)) {
    throw new Error('bad option: invalid retry backoff method');
  }
  return {
    retries,
    repeatRetries: retries,
    retryWait: given.wait ?? defaultWaitMs,
    retryBackoff: given.backoff ?? 'constant',
    retryUntil: given.until ?? foreverDate,
  };
}

type RepeatFields = Pick<JobDoc, 'repeats' | 'repeatWait' | 'repeatUntil'>;

export function repeatFields(options: number | RepeatOptions = 0): RepeatFields {
  const given = typeof options === 'number' ? { repeats: options } : options;
  if (typeof given !== 'object' || given === null) throw new Error('repeat accepts an integer >= 0 or an options object');
  if (given.wait !== undefined && given.schedule !== undefined) {
    throw new Error('bad options: wait and schedule options are mutually exclusive');
  }
  if (given.repeats !== undefined && !isWholeAtLeast(given.repeats, 0)) throw new Error('bad option: repeats must be an integer >= 0');
  if (given.until !== undefined && !(given.until instanceof Date)) throw new Error('bad option: until must be a Date object');
  if (given.wait !== undefined && !isWholeAtLeast(given.wait, 0)) throw new Error('bad option: wait must be an integer >= 0');
  let repeatWait: number | LaterSchedule = given.wait ?? defaultWaitMs;
  if (given.schedule !== undefined) {
    const { schedules, exceptions } = given.schedule;
    if (!Array.isArray(schedules)) throw new Error('bad option: a schedule needs a schedules array');
    if (exceptions !== undefined && !Array.isArray(exceptions)) throw new Error('bad option: schedule exceptions must be an array');
    // meteor-job keeps only these two keys of later.js's parse output.
    repeatWait = exceptions === undefined ? { schedules } : { schedules, exceptions };
  }
  return { repeats: given.repeats ?? forever, repeatWait, repeatUntil: given.until ?? foreverDate };
}

export function delayedAfter(wait = 0, now = Date.now()): Date {
  if (!isWholeAtLeast(wait, 0)) throw new Error('delay requires a non-negative integer');
  return new Date(now + wait);
}

export function checkedAfter(time: Date = new Date(0)): Date {
  if (!(time instanceof Date)) throw new Error('after requires a Date');
  return time;
}

export function checkedLogLevel(level: LogLevel = 'info'): LogLevel {
  if (!jobLogLevels.includes(level)) throw new Error(`Log level must be one of ${jobLogLevels.join(', ')}`);
  return level;
}

/** A result or error as the server accepts it: a plain object, anything else as `{value}`. */
export function asPayload(value: unknown, absent: unknown): Record<string, unknown> {
  const given = value === undefined || value === null ? absent : value;
  if (given instanceof Error) {
    // An Error is no plain object (the server would refuse it) and its fields do not enumerate.
    return { value: given.message, name: given.name, ...(given.stack === undefined ? {} : { stack: given.stack }) };
  }
  if (isPlainObject(given)) return given;
  return { value: given };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
