/** The arithmetic of retries, repeats and caps (docs/PROTOCOL.md §2.3, §3.4, §3.5), free of I/O. */
import { forever, foreverDate } from '../../shared/constants.ts';
import type { LaterSchedule } from '../../shared/job-doc.ts';
import type { StoredJob } from '../store/job-store.ts';
import { waitUntilNextRun } from './schedule.ts';

export function capForever(n: number): number {
  return n > forever ? forever : n;
}

/**
 * `ms` after `from`, never past the latest representable date: waits and timeouts are
 * unbounded integers, and an invalid Date would make the job impossible to store.
 */
export function msAfter(from: Date, ms: number): Date {
  const at = from.getTime() + ms;
  return Number.isFinite(at) && at < foreverDate.getTime() ? new Date(at) : new Date(foreverDate);
}

/** A date in the past means "now", so that a client's clock cannot hold a job back. */
export function notBefore(date: Date, now: Date): Date {
  return date < now ? now : date;
}

export function isSchedule(wait: number | LaterSchedule): wait is LaterSchedule {
  return typeof wait !== 'number';
}

/**
 * When a failed attempt may run again: `retryWait` after now, doubled for each earlier
 * attempt under exponential backoff (`retried` already counts the failed attempt).
 */
export function retryTime(job: Pick<StoredJob, 'retryWait' | 'retryBackoff' | 'retried'>, now: Date): Date {
  const factor = job.retryBackoff === 'exponential' ? 2 ** Math.max(job.retried - 1, 0) : 1;
  // A zero wait stays zero however large the factor (0 * Infinity would be NaN).
  return msAfter(now, job.retryWait === 0 ? 0 : job.retryWait * factor);
}

/** Whether a failed attempt is retried at `after`, or the job fails for good. */
export function willRetry(job: Pick<StoredJob, 'retries' | 'retryUntil'>, after: Date, fatal: boolean): boolean {
  return !fatal && job.retries > 0 && job.retryUntil >= after;
}

/**
 * The wait before the next repeat of a job that completed at `now`, or undefined when it
 * does not repeat (no repeats left, past `repeatUntil`, or no further scheduled time).
 */
export function repeatWait(job: Pick<StoredJob, 'repeats' | 'repeatWait' | 'repeatUntil'>, now: Date): number | undefined {
  if (job.repeats <= 0) return undefined;
  const wait = isSchedule(job.repeatWait) ? waitUntilNextRun(job.repeatWait, now) : job.repeatWait;
  if (wait === undefined) return undefined;
  return job.repeatUntil.getTime() - wait >= now.getTime() ? wait : undefined;
}
