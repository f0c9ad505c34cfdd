/**
 * The atomic claim behind getWork, a waiting getWork and jobDone's `next` (docs/PROTOCOL.md
 * §2.3, §7.1, §7.2): ready jobs of the asked types, in priority order, under one new runId,
 * bound to the claiming connection.
 *
 * Guard: status `ready` and runId null. Writes per job: status running, the runId, `retries−1`,
 * `retried+1`, the lease (`workTimeout`, `expiresAfter`, or neither), `worker` (§7.11),
 * `_private.claimedBy`; log
 * `Job Running` (with the runId). Feed: ready → running.
 */
import type { JobDoc } from '../../shared/job-doc.ts';
import type { JobTransaction } from '../store/job-store.ts';
import type { JobContext } from './context.ts';
import { forClient, withChanges } from './job-docs.ts';
import { logMessages } from './log-messages.ts';
import { msAfter } from './rules.ts';

export interface WorkRequest {
  types: readonly string[];
  maxJobs: number;
  workTimeout?: number | undefined;
  /** Only the children of these jobs (a slot lent while they wait for them). */
  parents?: readonly string[] | undefined;
}

interface WorkOptions {
  maxJobs?: number | undefined;
  workTimeout?: number | undefined;
  parents?: readonly string[] | undefined;
}

/** getWork's and `next`'s type and options as one request; the type may be one name or a list. */
export function workRequest(type: string | string[], options: WorkOptions): WorkRequest {
  return {
    types: typeof type === 'string' ? [type] : type,
    maxJobs: options.maxJobs ?? 1,
    workTimeout: options.workTimeout,
    ...(options.parents === undefined ? {} : { parents: options.parents }),
  };
}

/**
 * Claims up to `maxJobs` ready jobs inside `tx`, all under one new runId, each remembering
 * `connectionId` (null: the server's own call, bound to nothing). Answers them as getWork does.
 */
export async function claimReady(
  ctx: JobContext,
  tx: JobTransaction,
  request: WorkRequest,
  connectionId: string | null,
): Promise<JobDoc[]> {
  if (request.types.length === 0) return [];
  const runId = ctx.newId();
  const now = ctx.clock.now();
  const lease = request.workTimeout === undefined
    ? { workTimeout: undefined, expiresAfter: undefined }
    : { workTimeout: request.workTimeout, expiresAfter: msAfter(now, request.workTimeout) };
  const claim = connectionId === null ? undefined : { claimedBy: connectionId, server: ctx.serverId };
  // Who runs it stays on the job after the run, for people and tools looking at it.
  const worker = connectionId === null ? {} : { worker: ctx.workers.workerInfo(connectionId) };
  const claimed: JobDoc[] = [];
  for (const job of await tx.nextReady(request.types, request.maxJobs, request.parents)) {
    const changes = {
      status: 'running' as const, runId, updated: now, retries: job.retries - 1, retried: job.retried + 1, ...lease, ...worker, _private: claim,
    };
    // The guard holds inside the transaction that just read the job; it states the claim's rule.
    if (!(await tx.update(job._id, changes, { statuses: ['ready'], runId: null }))) continue;
    await tx.appendLog(job._id, [logMessages.running(now, runId)]);
    claimed.push(forClient(withChanges(job, changes), { failures: false }));
  }
  return claimed;
}

/**
 * Runs a transaction that claims jobs for `connectionId` (or rebinds them to it), and keeps the
 * in-memory tally of the connection's running jobs in step. The tally is updated inside the
 * work, before the commit, because the commit's changes reach the feed before the transaction
 * resolves: a job claimed and finished in the same batch must find its claim already counted.
 * If the transaction is rolled back, the claims it counted are forgotten.
 */
export async function claimingTransaction<T>(
  ctx: JobContext,
  connectionId: string | null,
  work: (tx: JobTransaction) => Promise<{ value: T; claimed: readonly string[] }>,
): Promise<T> {
  let counted: readonly string[] = [];
  try {
    return await ctx.store.transaction(async (tx) => {
      // A store may run this again (a conflict with another server): only the last run counts.
      ctx.claims.release(counted);
      counted = [];
      const { value, claimed } = await work(tx);
      if (connectionId !== null && claimed.length > 0) {
        ctx.claims.bind(connectionId, claimed);
        counted = claimed;
      }
      return value;
    });
  } catch (error) {
    ctx.claims.release(counted);
    throw error;
  }
}

/** Claims ready jobs in a transaction of their own; nothing while the job server is stopped. */
export async function claimWork(ctx: JobContext, request: WorkRequest, connectionId: string | null): Promise<JobDoc[]> {
  if (ctx.state.stopped || request.types.length === 0) return [];
  return claimingTransaction(ctx, connectionId, async (tx) => {
    const jobs = await claimReady(ctx, tx, request, connectionId);
    return { value: jobs, claimed: jobs.map((job) => job._id) };
  });
}
