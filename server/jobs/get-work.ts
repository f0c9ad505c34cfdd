/** Claiming ready jobs for a worker: jobCollection's `getWork` (PROTOCOL §2.3). */
import type { JobDoc } from '../../shared/job-doc.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { JobContext } from './context.ts';
import { forClient, withChanges } from './job-docs.ts';
import { logMessages } from './log-messages.ts';

/**
 * Claims up to `maxJobs` ready jobs of the given types, in priority order, under one new
 * runId. Always answers an array, empty when there is no work or the server is stopped.
 */
export async function getWork(ctx: JobContext, [type, options = {}]: MethodParams<'getWork'>): Promise<JobDoc[]> {
  if (ctx.state.stopped) return [];
  const types = typeof type === 'string' ? [type] : type;
  const maxJobs = options.maxJobs ?? 1;
  if (types.length === 0) return [];
  const runId = ctx.newId();
  return ctx.store.transaction(async (tx) => {
    const now = ctx.clock.now();
    const lease = options.workTimeout === undefined
      ? { workTimeout: undefined, expiresAfter: undefined }
      : { workTimeout: options.workTimeout, expiresAfter: new Date(now.getTime() + options.workTimeout) };
    const claimed: JobDoc[] = [];
    // Another server sharing the store may claim a candidate first; ask again until full or dry.
    while (claimed.length < maxJobs) {
      const candidates = await tx.nextReady(types, maxJobs - claimed.length);
      let won = 0;
      for (const job of candidates) {
        const changes = { status: 'running' as const, runId, updated: now, retries: job.retries - 1, retried: job.retried + 1, ...lease };
        if (!(await tx.update(job._id, changes, { statuses: ['ready'], runId: null }))) continue;
        await tx.appendLog(job._id, [logMessages.running(now, runId)]);
        claimed.push(forClient(withChanges(job, changes), { failures: false }));
        won += 1;
      }
      if (won === 0) break;
    }
    return claimed;
  });
}
