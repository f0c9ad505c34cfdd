/**
 * Promotion of waiting jobs to ready: jobCollection's `jobReady` (docs/PROTOCOL.md §2.3), used
 * by the operations that make a job eligible and by the scheduler's pass.
 *
 * jobReady(ids: Id | [Id] (empty: every job), {force = false, time = now})
 *   Guard: waiting, `after ≤ time`, no pending depends (unless force).
 *   Answer: whether any job was promoted.
 *   Writes: status ready, `updated`; explicit ids also `after = now`; force also `depends = []`.
 *   Log `Promoted to ready` (force: first `Dependencies force resolved`). Feed: waiting → ready.
 */
import type { JobTransaction } from '../store/job-store.ts';
import type { JobContext } from './context.ts';
import { logMessages } from './log-messages.ts';

export interface ReadyOptions {
  /** Promote even with pending dependencies, dropping them (not resolving them). */
  force?: boolean;
  /** Promote jobs whose `after` is at or before this time; default now. */
  time?: Date;
}

/**
 * Promotes `waiting` jobs that are due and have no pending dependencies. An empty id list
 * means every job. Returns whether any job was promoted.
 */
export async function readyJobs(ctx: JobContext, tx: JobTransaction, ids: readonly string[], options: ReadyOptions = {}): Promise<boolean> {
  return (await promote(ctx, tx, ids, options)) > 0;
}

/** As `readyJobs`, answering how many jobs were promoted. */
export function readyJobCount(ctx: JobContext, tx: JobTransaction, ids: readonly string[], options: ReadyOptions = {}): Promise<number> {
  return promote(ctx, tx, ids, options);
}

/**
 * Promotes at most `limit` due jobs, the earliest due first, and says how many: the promotion
 * pass works in such chunks so that a backlog never holds the event loop in one transaction.
 */
export function promoteDue(ctx: JobContext, tx: JobTransaction, limit: number): Promise<number> {
  return promote(ctx, tx, [], { limit });
}

async function promote(
  ctx: JobContext,
  tx: JobTransaction,
  ids: readonly string[],
  options: ReadyOptions & { limit?: number },
): Promise<number> {
  const now = ctx.clock.now();
  const force = options.force ?? false;
  const explicit = ids.length > 0;
  const due = await tx.promotable(options.time ?? now, {
    ...(explicit ? { ids } : {}),
    ignoreDepends: force,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
  });
  let promoted = 0;
  for (const job of due) {
    const changed = await tx.update(
      job._id,
      {
        status: 'ready',
        updated: now,
        ...(explicit ? { after: now } : {}),
        ...(force ? { depends: [] } : {}),
      },
      { statuses: ['waiting'] },
    );
    if (!changed) continue;
    promoted += 1;
    // Upstream logs the forced resolution before the promotion.
    await tx.appendLog(job._id, force ? [logMessages.forced(now), logMessages.readied(now)] : [logMessages.readied(now)]);
  }
  return promoted;
}
