/**
 * The batch admin operations (docs/PROTOCOL.md §2.3): pause, resume, ready, cancel, restart,
 * remove. Each takes one id or a list, skips jobs whose status does not qualify (§3.2), and
 * answers whether anything changed. All of one call is one transaction.
 *
 * jobPause(ids, {})      Guard: ready | waiting.  → paused; log `Job Paused`.
 * jobResume(ids, {})     Guard: paused.           → waiting; log `Job Resumed`; then promoted if due.
 * jobReady(ids, {force, time})  see promote.ts.
 * jobCancel(ids, {antecedents = false, dependents = true})
 *                        Guard: running | ready | waiting | paused. → cancelled, runId null,
 *                        progress reset; log `Job Cancelled`; then the related jobs, recursively.
 * jobRestart(ids, {retries = 1, until?, antecedents = true, dependents = false})
 *                        Guard: cancelled | failed. → waiting, `retries + n`, progress reset;
 *                        log `Job Restarted`; related jobs recursively; then promoted if due.
 * jobRemove(ids, {})     Guard: cancelled | completed | failed. Deletes jobs and logs; their
 *                        waiting dependents are cancelled (log `Antecedent job <id> removed`, §5.11);
 *                        a finished chain whose every link is gone is deleted too.
 * Feed: one change per job whose status changed (removed: status null).
 *
 * Each has a form inside a transaction that answers how many jobs it changed, for the actions
 * on everything matching a filter (bulk-actions.ts).
 */
import {
  jobStatusCancellable, jobStatusPausable, jobStatusRemovable, jobStatusRestartable, methodDefaults,
} from '../../shared/constants.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { JobTransaction } from '../store/job-store.ts';
import { childLinks, endChain, forgetEmptiedChains } from './chains.ts';
import type { JobContext } from './context.ts';
import { idList, resetProgress } from './job-docs.ts';
import { logMessages } from './log-messages.ts';
import { readyJobs } from './promote.ts';
import { relatedJobIds, type RelatedOptions } from './related-jobs.ts';
import { capForever } from './rules.ts';

export async function jobPause(ctx: JobContext, [ids]: MethodParams<'jobPause'>): Promise<boolean> {
  return (await ctx.store.transaction((tx) => pauseJobs(ctx, tx, idList(ids)))) > 0;
}

export async function pauseJobs(ctx: JobContext, tx: JobTransaction, ids: readonly string[]): Promise<number> {
  const now = ctx.clock.now();
  let changed = 0;
  for (const id of ids) {
    if (!(await tx.update(id, { status: 'paused', updated: now }, { statuses: jobStatusPausable }))) continue;
    await tx.appendLog(id, [logMessages.paused(now)]);
    changed += 1;
  }
  return changed;
}

export async function jobResume(ctx: JobContext, [ids]: MethodParams<'jobResume'>): Promise<boolean> {
  return (await ctx.store.transaction((tx) => resumeJobs(ctx, tx, idList(ids)))) > 0;
}

export async function resumeJobs(ctx: JobContext, tx: JobTransaction, ids: readonly string[]): Promise<number> {
  const now = ctx.clock.now();
  const resumed: string[] = [];
  for (const id of ids) {
    if (!(await tx.update(id, { status: 'waiting', updated: now }, { statuses: ['paused'] }))) continue;
    await tx.appendLog(id, [logMessages.resumed(now)]);
    resumed.push(id);
  }
  if (resumed.length > 0) await readyJobs(ctx, tx, resumed);
  return resumed.length;
}

export async function jobReady(ctx: JobContext, [ids, options = {}]: MethodParams<'jobReady'>): Promise<boolean> {
  return ctx.store.transaction((tx) => readyJobs(ctx, tx, idList(ids), options));
}

export async function jobCancel(ctx: JobContext, [ids, options = {}]: MethodParams<'jobCancel'>): Promise<boolean> {
  const cancelled = await ctx.store.transaction((tx) =>
    cancelJobs(ctx, tx, idList(ids), { antecedents: options.antecedents ?? false, dependents: options.dependents ?? true }),
  );
  return cancelled > 0;
}

/**
 * Cancels the jobs and, recursively, their related jobs that are still cancellable, and the
 * chains their handlers submitted (§7.9). A cancelled chain link ends its chain. Answers how
 * many jobs were cancelled, related ones included.
 */
export async function cancelJobs(ctx: JobContext, tx: JobTransaction, ids: readonly string[], options: RelatedOptions): Promise<number> {
  if (ids.length === 0) return 0;
  const now = ctx.clock.now();
  let changed = 0;
  const children: string[] = [];
  for (const id of ids) {
    const cancelled = await tx.update(
      id,
      { status: 'cancelled', runId: null, progress: resetProgress(), updated: now, _private: undefined },
      { statuses: jobStatusCancellable },
    );
    if (!cancelled) continue;
    await tx.appendLog(id, [logMessages.cancelled(now)]);
    changed += 1;
    const job = await tx.get(id);
    if (job?.chain !== undefined) await endChain(ctx, tx, job, 'cancelled');
    children.push(...(await childLinks(tx, id)));
  }
  const related = await relatedJobIds(tx, ids, options, jobStatusCancellable);
  return changed + (await cancelJobs(ctx, tx, [...new Set([...related, ...children])], options));
}

export async function jobRestart(ctx: JobContext, [ids, options = {}]: MethodParams<'jobRestart'>): Promise<boolean> {
  const restart: RestartOptions = {
    retries: capForever(options.retries ?? methodDefaults.restartRetries),
    ...(options.until === undefined ? {} : { until: options.until }),
    antecedents: options.antecedents ?? true,
    dependents: options.dependents ?? false,
  };
  return (await ctx.store.transaction((tx) => restartJobs(ctx, tx, idList(ids), restart))) > 0;
}

export interface RestartOptions extends RelatedOptions {
  retries: number;
  until?: Date;
}

/** jobRestart's default options. */
export const restartDefaults: RestartOptions = { retries: methodDefaults.restartRetries, antecedents: true, dependents: false };

/** Restarts the jobs and their related jobs that may be restarted; answers how many were. */
export async function restartJobs(ctx: JobContext, tx: JobTransaction, ids: readonly string[], options: RestartOptions): Promise<number> {
  if (ids.length === 0) return 0;
  const now = ctx.clock.now();
  let changed = 0;
  for (const id of ids) {
    const job = await tx.get(id);
    if (job === undefined || !jobStatusRestartable.includes(job.status)) continue;
    const restarted = await tx.update(
      id,
      {
        status: 'waiting',
        progress: resetProgress(),
        updated: now,
        retries: capForever(job.retries + options.retries),
        ...(options.until === undefined ? {} : { retryUntil: options.until }),
      },
      { statuses: jobStatusRestartable },
    );
    if (!restarted) continue;
    await tx.appendLog(id, [logMessages.restarted(now)]);
    changed += 1;
  }
  const related = await relatedJobIds(tx, ids, options, jobStatusRestartable);
  const total = changed + (await restartJobs(ctx, tx, related, options));
  if (total > 0) await readyJobs(ctx, tx, ids);
  return total;
}

export async function jobRemove(ctx: JobContext, [ids]: MethodParams<'jobRemove'>): Promise<boolean> {
  return (await ctx.store.transaction((tx) => removeJobs(ctx, tx, idList(ids)))) > 0;
}

/** Removes the jobs that may be removed; answers how many were. */
export async function removeJobs(ctx: JobContext, tx: JobTransaction, ids: readonly string[]): Promise<number> {
  const removableJobs = await tx.find({ ids, statuses: jobStatusRemovable });
  const removable = removableJobs.map((job) => job._id);
  if (removable.length === 0) return 0;
  // Dependents still waiting on a removed job could never run (upstream strands them, §5.11):
  // cancel them, as a save with a missing antecedent is cancelled.
  const stranded = await tx.dependentsOf(removable, jobStatusCancellable);
  const removed = await tx.remove(removable);
  const now = ctx.clock.now();
  for (const job of stranded) {
    const gone = job.depends.filter((id) => removable.includes(id));
    await tx.appendLog(job._id, gone.map((id) => logMessages.antecedentRemoved(now, id)));
  }
  await cancelJobs(ctx, tx, stranded.map((job) => job._id), { antecedents: false, dependents: true });
  await forgetEmptiedChains(tx, removableJobs);
  return removed;
}
