/** Running a completed job again as a new job: jobCollection's `jobRerun` (PROTOCOL §2.3). */
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
