/**
 * Claiming ready jobs for a worker: jobCollection's `getWork` (docs/PROTOCOL.md §2.3), and
 * waiting for them (§7.1).
 *
 * getWork(type: String | [String], options {maxJobs = 1, workTimeout?, waitMs = 0})
 *   Guard: the job server runs; jobs `ready` with runId null, in claim order (§2.3).
 *   Answer: always an array of claimed jobs (without log and failures), all under one new runId.
 *   Writes and feed: those of a claim (claim-work.ts): ready → running, log `Job Running`.
 *   With `waitMs` and nothing ready: unblocks the connection and waits for the feed.
 */
import type { JobDoc } from '../../shared/job-doc.ts';
import type { MethodParams } from '../../shared/methods.ts';
import { claimWork, workRequest } from './claim-work.ts';
import type { Caller, JobContext } from './context.ts';

/**
 * Claims up to `maxJobs` ready jobs of the given types, in priority order, under one new
 * runId, bound to the caller's connection. Always answers an array, empty when there is no
 * work or the server is stopped. With `waitMs` and nothing ready, it lets the connection's
 * other calls go on and answers as soon as work of these types is claimed for it, or with []
 * when the time is up, the connection closes or the job server stops.
 */
export async function getWork(ctx: JobContext, [type, options = {}]: MethodParams<'getWork'>, caller: Caller): Promise<JobDoc[]> {
  const request = workRequest(type, options);
  const connectionId = caller.connectionId;
  if (connectionId !== null) ctx.workers.reported(connectionId, options.worker, request.types, ctx.clock.now());
  // A less-loaded worker waiting for some of these types gets that work first (§7.11).
  const left = ctx.dispatcher.typesForLessLoaded(request.types, connectionId);
  const claimed = await claimWork(ctx, left.size === 0 ? request : { ...request, types: request.types.filter((type) => !left.has(type)) }, connectionId);
  const waitMs = options.waitMs ?? 0;
  if (claimed.length > 0 || waitMs === 0 || request.types.length === 0 || ctx.state.stopped) return claimed;
  // A connection that closed meanwhile would only tie up jobs until its requeue.
  if (connectionId !== null && !ctx.claims.isLive(connectionId)) return [];
  // A call for the children of jobs waits only while one of them runs: the dispatcher hears of
  // their end, but not of an end before it was asked.
  const parents = request.parents === undefined ? undefined : await runningOf(ctx, request.parents);
  if (parents?.length === 0) return [];
  // Holding the call without unblocking would queue the worker's own jobDone behind it (§1.5).
  caller.unblock();
  return ctx.dispatcher.wait({
    connectionId,
    types: request.types,
    waitMs,
    parents,
    claim: () => claimWork(ctx, request, connectionId),
  });
}

async function runningOf(ctx: JobContext, ids: readonly string[]): Promise<string[]> {
  return (await ctx.store.getJobs(ids)).filter((job) => job.status === 'running').map((job) => job._id);
}
