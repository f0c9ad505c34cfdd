/** Cloning a finished job into a new one: the next repeat, or an explicit rerun (docs/PROTOCOL.md §3.5). */
import type { LaterSchedule } from '../../shared/job-doc.ts';
import type { JobTransaction, StoredJob } from '../store/job-store.ts';
import type { JobContext } from './context.ts';
import { resetProgress } from './job-docs.ts';
import { logMessages } from './log-messages.ts';
import { readyJobs } from './promote.ts';
import { capForever, isSchedule, msAfter } from './rules.ts';
import { nextOccurrences } from './schedule.ts';

export interface RerunPlan {
  repeats: number;
  /** Milliseconds from now, or a schedule whose next occurrence is the start time. */
  wait: number | LaterSchedule;
  until: Date;
}

/**
 * Inserts a copy of `job` that starts afresh at `now + wait`, and promotes it at once when
 * the wait is zero. Returns the new id, or undefined when a schedule has no next occurrence.
 */
export async function cloneJob(ctx: JobContext, tx: JobTransaction, job: StoredJob, plan: RerunPlan): Promise<string | undefined> {
  const now = ctx.clock.now();
  // A schedule as the wait means "at its next occurrence" (upstream computed an invalid date, §5.12).
  const after = isSchedule(plan.wait) ? nextOccurrences(plan.wait, 1, now)[0] : msAfter(now, plan.wait);
  if (after === undefined) return undefined;
  // A clone is no link of its original's chain, and no one's child: nothing awaits it.
  const {
    _id: previousId, result: _result, failures: _failures, workTimeout: _workTimeout, expiresAfter: _expiresAfter,
    _private: _claim, chain: _chain, parent: _parent, worker: _worker, ...kept
  } = job;
  const repeatRetries = job.repeatRetries ?? job.retries + job.retried;
  const clone: StoredJob = {
    ...kept,
    _id: ctx.newId(),
    runId: null,
    status: 'waiting',
    repeatRetries,
    retries: capForever(repeatRetries),
    retryUntil: plan.until,
    retried: 0,
    repeats: capForever(plan.repeats),
    repeatUntil: plan.until,
    repeated: job.repeated + 1,
    updated: now,
    created: now,
    progress: resetProgress(),
    after,
  };
  await tx.insert(clone, [logMessages.rerun(now, previousId, job.runId)]);
  await readyJobs(ctx, tx, [clone._id]);
  return clone._id;
}
