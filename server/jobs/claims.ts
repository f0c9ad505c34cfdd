/**
 * Claims bound to DDP connections (docs/PROTOCOL.md §7.5): a job claimed by getWork remembers
 * the connection that claimed it (`_private.claimedBy`), so that when that connection dies its
 * running jobs can be requeued, and a worker that reconnected in time can take them back.
 */
import type { JobLogEntry } from '../../shared/job-doc.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { JobClaim, JobTransaction, StoredJob } from '../store/job-store.ts';
import { claimingTransaction } from './claim-work.ts';
import type { Caller, JobContext } from './context.ts';
import { resetProgress } from './job-docs.ts';
import { logMessages } from './log-messages.ts';
import { readyJobs } from './promote.ts';

/**
 * reclaimRuns(runs [{id, runId}] ≤ 1000) → ids still running with those runIds (docs/PROTOCOL.md §7.4).
 * A reconnected worker binds the runs it still works on to its new connection, so they are
 * not requeued when its old connection's grace ends; the others were requeued (or finished)
 * and their runIds are stale. Guard: status running and the same runId. Writes `_private`
 * only (no log entry, no status change in the feed).
 */
export async function reclaimRuns(ctx: JobContext, [runs]: MethodParams<'reclaimRuns'>, caller: Caller): Promise<string[]> {
  const connectionId = caller.connectionId;
  return claimingTransaction(ctx, connectionId, async (tx) => {
    const alive: string[] = [];
    for (const run of runs) {
      const job = await tx.get(run.id);
      if (job?.status !== 'running' || job.runId !== run.runId || alive.includes(run.id)) continue;
      // The server's own calls have no connection to bind to: they only learn what is alive.
      if (connectionId !== null) await tx.update(run.id, { _private: { claimedBy: connectionId, server: ctx.serverId } });
      alive.push(run.id);
    }
    return { value: alive, claimed: alive };
  });
}

/**
 * Puts the running jobs whose claiming connection `isLost` back in the queue: the lost
 * attempt is given back (`retries + 1`; `retried` keeps counting attempts started), the
 * runId is dropped so a late done or fail of that run gets false, the lease and the progress
 * of the lost attempt go, and the jobs are promoted as usual. With `jobIds`, only those jobs
 * are looked at (a lost connection's known claims); without, every running job (the sweep for
 * the claims of servers that are gone, orphan-sweep.ts). Answers how many were requeued.
 *
 * Log: `Requeued: the worker's connection was lost` (warning, the lost runId), then
 * `Promoted to ready`. Feed: running → waiting → ready.
 */
export async function requeueLostRuns(
  ctx: JobContext,
  isLost: (claim: JobClaim & { claimedBy: string }) => boolean,
  jobIds?: readonly string[],
): Promise<number> {
  return ctx.store.transaction(async (tx) => {
    const now = ctx.clock.now();
    const requeued: string[] = [];
    const running = await tx.find(jobIds === undefined ? { statuses: ['running'] } : { ids: jobIds, statuses: ['running'] });
    for (const job of running) {
      const claim = job._private;
      if (claim?.claimedBy === undefined || !isLost({ ...claim, claimedBy: claim.claimedBy })) continue;
      if (await putBack(tx, job, now, logMessages.requeued(now, job.runId))) requeued.push(job._id);
    }
    if (requeued.length > 0) await readyJobs(ctx, tx, requeued);
    return requeued.length;
  });
}

/**
 * releaseRuns(runs [{id, runId}] ≤ 1000) → ids given back (docs/PROTOCOL.md §7.14). A worker
 * gives back runs it claimed but will not start (it is shutting down): each goes back to the
 * queue as a lost connection's run does, the attempt given back. Guard: running, the same
 * runId, and claimed by the calling connection (any, for the server's own calls).
 * Log: `Released: the worker gave the job back` (the runId), then `Promoted to ready`.
 * Feed: running → waiting → ready.
 */
export async function releaseRuns(ctx: JobContext, [runs]: MethodParams<'releaseRuns'>, caller: Caller): Promise<string[]> {
  return ctx.store.transaction(async (tx) => {
    const now = ctx.clock.now();
    const released: string[] = [];
    for (const run of runs) {
      const job = await tx.get(run.id);
      if (job?.status !== 'running' || job.runId !== run.runId || released.includes(run.id)) continue;
      if (caller.connectionId !== null && job._private?.claimedBy !== caller.connectionId) continue;
      if (await putBack(tx, job, now, logMessages.released(now, run.runId))) released.push(run.id);
    }
    if (released.length > 0) await readyJobs(ctx, tx, released);
    return released;
  });
}

/** A running job back to waiting, its attempt given back, its run, lease and progress gone. */
async function putBack(tx: JobTransaction, job: StoredJob, now: Date, entry: JobLogEntry): Promise<boolean> {
  const changes = {
    status: 'waiting' as const,
    runId: null,
    retries: job.retries + 1,
    workTimeout: undefined,
    expiresAfter: undefined,
    progress: resetProgress(),
    updated: now,
    _private: undefined,
  };
  if (!(await tx.update(job._id, changes, { statuses: ['running'], runId: job.runId }))) return false;
  await tx.appendLog(job._id, [entry]);
  return true;
}
