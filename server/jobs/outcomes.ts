/**
 * Awaiting outcomes per connection (docs/PROTOCOL.md §7.12), the operations over the
 * connection's watch (outcome-watcher.ts).
 *
 * chainWatch(ids ≤ 1000) → {outcomes: [ChainReport], missing: [id]}
 * jobWatch(ids ≤ 1000)   → {outcomes: [JobReport], missing: [id]}
 *   Answer the outcomes known now and the ids that name nothing; the rest are watched by the
 *   calling connection. Write nothing.
 * outcomes({waitMs = 0})  → {chains: [ChainReport], jobs: [JobReport]}
 *   What was delivered to the connection since its last call; with nothing yet, unblocks the
 *   connection and waits up to waitMs. A newer call answers an older waiting one with nothing.
 */
import type { ChainWatchAnswer } from '../../shared/chains.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { JobWatchAnswer, OutcomeBatch } from '../../shared/outcomes.ts';
import type { Caller, JobContext } from './context.ts';

export async function chainWatch(ctx: JobContext, [ids]: MethodParams<'chainWatch'>, caller: Caller): Promise<ChainWatchAnswer> {
  if (caller.connectionId === null) return { outcomes: [], missing: [] };
  return ctx.watcher.watch('chains', caller.connectionId, ids);
}

export async function jobWatch(ctx: JobContext, [ids]: MethodParams<'jobWatch'>, caller: Caller): Promise<JobWatchAnswer> {
  if (caller.connectionId === null) return { outcomes: [], missing: [] };
  return ctx.watcher.watch('jobs', caller.connectionId, ids);
}

export async function outcomes(ctx: JobContext, [options = {}]: MethodParams<'outcomes'>, caller: Caller): Promise<OutcomeBatch> {
  if (caller.connectionId === null) return { chains: [], jobs: [] };
  return ctx.watcher.next(caller.connectionId, options.waitMs ?? 0, () => caller.unblock());
}
