/**
 * jobBulk(action, filter {types?, statuses?, text?, created?, updated?}, {dryRun?}) →
 * {matched, changed} (docs/PROTOCOL.md §7.16): an admin action on everything a filter selects —
 * pause or resume a whole type, cancel every failed job of a type, remove what is completed,
 * restart the failed jobs a search finds.
 *
 * `matched` is how many jobs of the filter the action applies to (the filter's statuses that
 * the action accepts), read from the store's counts (counted, for a search or a time range)
 * when the call starts; a dry run answers only that, so a UI can ask for confirmation with the
 * number. Otherwise the jobs are taken oldest first (newest saved first for a search) in batches of `bulkBatchSize`, each batch one transaction doing exactly what the
 * single action does (same guards, logs, cascades), until none is left; `changed` counts the
 * jobs each batch changed, related jobs cancelled or restarted with them included. Each job is
 * taken once per call (a restarted job that fails again at once, or a readied repeat's next
 * run, is not taken again), and a batch that changes nothing ends the run, so the run always ends.
 */
import {
  foreverDate, jobStatusCancellable, jobStatusPausable, jobStatusRemovable, jobStatusRestartable, type JobStatus,
} from '../../shared/constants.ts';
import type { BulkAction, MethodParams } from '../../shared/methods.ts';
import type { JobTransaction, QueueCounts } from '../store/job-store.ts';
import type { JobContext } from './context.ts';
import { cancelJobs, pauseJobs, removeJobs, restartDefaults, restartJobs, resumeJobs } from './job-control.ts';
import { jobQuery } from './list-jobs.ts';
import { readyJobCount } from './promote.ts';

/** Jobs per transaction: a large filter is worked off in turns, never in one long block. */
export const bulkBatchSize = 500;

/**
 * The statuses each action applies to (docs/PROTOCOL.md §3.2). `ready` means ready now: as
 * `jobReady {force, time: foreverDate}`, delays and pending depends are dropped.
 */
const applies: Record<BulkAction, readonly JobStatus[]> = {
  pause: jobStatusPausable,
  resume: ['paused'],
  ready: ['waiting'],
  cancel: jobStatusCancellable,
  restart: jobStatusRestartable,
  remove: jobStatusRemovable,
};

const perform: Record<BulkAction, (ctx: JobContext, tx: JobTransaction, ids: string[]) => Promise<number>> = {
  pause: pauseJobs,
  resume: resumeJobs,
  ready: (ctx, tx, ids) => readyJobCount(ctx, tx, ids, { force: true, time: foreverDate }),
  cancel: (ctx, tx, ids) => cancelJobs(ctx, tx, ids, { antecedents: false, dependents: true }),
  restart: (ctx, tx, ids) => restartJobs(ctx, tx, ids, restartDefaults),
  remove: removeJobs,
};

export async function jobBulk(ctx: JobContext, [action, filter, options = {}]: MethodParams<'jobBulk'>): Promise<{ matched: number; changed: number }> {
  const statuses = applies[action].filter((status) => filter.statuses?.includes(status) ?? true);
  const selection = { ...jobQuery(filter), statuses };
  // Types and statuses alone are counted from the per-type counts, without reading jobs.
  const byTypeAndStatus = selection.text === undefined && selection.created === undefined && selection.updated === undefined;
  const matched = byTypeAndStatus ? countOf(await ctx.store.counts(), filter.types, statuses) : await ctx.store.count(selection);
  if (options.dryRun === true || matched === 0) return { matched, changed: 0 };
  let changed = 0;
  const taken = new Set<string>();
  for (;;) {
    const listed = await ctx.store.list(selection, { limit: bulkBatchSize, order: 'created-asc' });
    const batch = listed.map((job) => job._id).filter((id) => !taken.has(id));
    if (batch.length === 0) break;
    for (const id of batch) taken.add(id);
    const done = await ctx.store.transaction((tx) => perform[action](ctx, tx, batch));
    if (done === 0) break;
    changed += done;
    // Let other calls in between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { matched, changed };
}

function countOf(counts: QueueCounts, types: readonly string[] | undefined, statuses: readonly JobStatus[]): number {
  let total = 0;
  for (const [type, byStatus] of Object.entries(counts)) {
    if (types !== undefined && !types.includes(type)) continue;
    for (const status of statuses) total += byStatus[status] ?? 0;
  }
  return total;
}
