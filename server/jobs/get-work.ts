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
  // A less-loaded worker waiting for these types gets the work first (§7.11).
  const claimed = ctx.dispatcher.hasLessLoadedWaiter(request.types, connectionId) ? [] : await claimWork(ctx, request, connectionId);
  const waitMs = options.waitMs ?? 0;
  if (claimed.length > 0 || waitMs === 0 || request.types.length === 0 || ctx.state.stopped) return claimed;
  // A connection that closed meanwhile would only tie up jobs until its requeue.
  if (connectionId !== null && !ctx.claims.isLive(connectionId)) return [];
  // Holding the call without unblocking would queue the worker's own jobDone behind it (§1.5).
  caller.unblock();
  return ctx.dispatcher.wait({ connectionId, types: request.types, waitMs, claim: () => claimWork(ctx, request, connectionId) });
}
