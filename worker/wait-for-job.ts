/**
 * Awaiting a job's end: `Job.waitFor(root, id)` / `job.result()`. The connection watches the job
 * (docs/PROTOCOL.md §7.12): the answer says at once whether it has ended, and otherwise its end
 * is pushed through the connection's one waiting `outcomes` call — no polling, and no
 * subscription per awaited job, so ten thousand waits cost the server ten thousand ids.
 */
import type { JobReport } from '../shared/outcomes.ts';
import { JobFailedError, JobNotFoundError, WaitTimeoutError } from './errors.ts';
import { connectionOf, rootName, type JobRoot } from './job-root.ts';
import { outcomeWaitersOf } from './outcome-waiters.ts';

export interface WaitOptions {
  /** Give up (reject with `WaitTimeoutError`) after this long; the job itself goes on. */
  timeoutMs?: number;
}

/** A job's result. */
export type JobResult = Record<string, unknown>;

/**
 * Resolves with the job's result once it has completed; rejects with `JobFailedError` (status
 * and failures) once it has failed for good or was cancelled, and with `JobNotFoundError` when
 * it does not exist or is removed. A job that fails and will be retried is still under way.
 */
export async function waitForJob<R extends JobResult = JobResult>(root: JobRoot, id: string, options: WaitOptions = {}): Promise<R> {
  if (typeof id !== 'string') throw new TypeError('waitFor needs a job id');
  const waiters = outcomeWaitersOf(connectionOf(root), rootName(root));
  const report = await withTimeout(waiters.awaitJob(id), id, options.timeoutMs);
  return resultOf(id, report) as R;
}

function resultOf(id: string, report: JobReport | undefined): JobResult {
  if (report === undefined) throw new JobNotFoundError(id);
  switch (report.status) {
    case 'completed':
      return report.result;
    case 'removed':
      throw new JobNotFoundError(id, true);
    default:
      throw new JobFailedError(id, report.status, report.failures);
  }
}

async function withTimeout<T>(waiting: Promise<T>, id: string, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return waiting;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeoutError(id, timeoutMs)), timeoutMs);
  });
  // Once timed out, the wait still ends some day: nobody listens, and nothing is unhandled.
  waiting.catch(() => undefined);
  try {
    return await Promise.race([waiting, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
