/**
 * Claims bound to DDP connections: a job claimed by getWork remembers the connection that
 * claimed it, so that when that connection dies its running jobs can be requeued.
 */
import type { MethodParams } from '../../shared/methods.ts';
import type { Caller, JobContext } from './context.ts';

/**
 * A reconnected worker binds the runs it still works on to its new connection. Answers the
 * ids still running with the given runIds.
 */
export async function reclaimRuns(ctx: JobContext, [runs]: MethodParams<'reclaimRuns'>, _caller: Caller): Promise<string[]> {
  return ctx.store.transaction(async (tx) => {
    const alive: string[] = [];
    for (const run of runs) {
      const job = await tx.get(run.id);
      if (job?.status === 'running' && job.runId === run.runId) alive.push(run.id);
    }
    return alive;
  });
}
