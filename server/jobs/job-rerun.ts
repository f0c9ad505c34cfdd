/**
 * Running a completed job again as a new job: jobCollection's `jobRerun` (docs/PROTOCOL.md
 * §2.3, §3.5).
 *
 * jobRerun(id, {repeats = 0, until = the job's repeatUntil, wait = 0 | schedule})
 *   Guard: the job is completed. Answer: the new job's id, or false.
 *   Writes: a clone (clone-job.ts) with log `Rerunning job`, promoted at once when the wait is 0.
 *   Feed: the clone inserted (waiting, or ready).
 */
import type { MethodParams } from '../../shared/methods.ts';
import type { JobContext } from './context.ts';
import { cloneJob } from './clone-job.ts';

/** Returns the new job's id, or false when the job is not completed. */
export async function jobRerun(ctx: JobContext, [id, options]: MethodParams<'jobRerun'>): Promise<string | false> {
  return ctx.store.transaction(async (tx) => {
    const job = await tx.get(id);
    if (job === undefined || job.status !== 'completed') return false;
    const newId = await cloneJob(ctx, tx, job, {
      repeats: options?.repeats ?? 0,
      wait: options?.wait ?? 0,
      until: options?.until ?? job.repeatUntil,
    });
    return newId ?? false;
  });
}
