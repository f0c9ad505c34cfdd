/**
 * What a worker reports about a job it runs: progress, log, done, fail (docs/PROTOCOL.md §2.3).
 * Progress, done and fail only apply to the current run (status running, same runId): a stale
 * runId gets false, which is what makes at-least-once delivery safe (§3.7).
 *
 * jobProgress(id, runId, completed ≥ 0, total > 0, {})
 *   Guard: current run; completed ≤ total (else 400). Answer: true | false; null while stopped.
 *   Writes progress and `updated`, extends the lease. No log entry; feed: no status change.
 * jobLog(id, runId | null, message, {level = 'info', data?})
 *   Guard: the job exists (any status, any runId). Answer: true | false.
 *   Appends the entry, sets `updated`, extends a running job's lease; feed: no status change.
 * jobDone(id, runId, result {}, {repeatId?, delayDeps?, next?})
 *   Guard: current run. Answer: true, the repeat's id (with repeatId), or false; with `next`,
 *   `{done, jobs}` (§7.2). → completed, progress 100 %; log `Job Completed`; then the next
 *   repeat (log `Rerunning job`) and the dependents resolved (log `Dependency resolved`) and
 *   promoted. Feed: running → completed, plus those jobs.
 * jobDoneMany([{id, runId, result?}], {next?})
 *   jobDone (without repeatId or delayDeps) for each run in turn, in one transaction. Answer:
 *   one boolean per run; with `next`, `{done: [...], jobs}`, claiming only if a run was done.
 * jobFail(id, runId, err {}, {fatal = false})
 *   Guard: current run. Answer: true | false. → waiting (a retry at now + retryWait[·2^n]) or
 *   failed, runId null, err pushed to `failures`; log `Job Failed with[ Fatal] Error[: v].`;
 *   a final failure cancels the dependents. Feed: running → waiting | failed, plus those jobs.
 */
import { matchFailed } from '../../shared/errors.ts';
import type { JobDoc } from '../../shared/job-doc.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { JobTransaction, StoredJob, UpdateGuard } from '../store/job-store.ts';
import { claimingTransaction, claimReady, workRequest } from './claim-work.ts';
import type { Caller, JobContext } from './context.ts';
import { advanceChain, endChain } from './chains.ts';
import { cancelDependents, resolveDependents } from './dependencies.ts';
import { logMessages } from './log-messages.ts';
import { cloneJob } from './clone-job.ts';
import { msAfter, repeatWait, retryTime, willRetry } from './rules.ts';

function currentRun(runId: string): UpdateGuard {
  return { statuses: ['running'], runId };
}

function isCurrentRun(job: StoredJob | undefined, runId: string): job is StoredJob {
  return job !== undefined && job.status === 'running' && job.runId === runId;
}

/** A running job's lease is extended by every sign of life. */
function extendedLease(job: StoredJob, now: Date): { expiresAfter?: Date } {
  return job.status === 'running' && job.workTimeout !== undefined
    ? { expiresAfter: msAfter(now, job.workTimeout) }
    : {};
}

export async function jobProgress(
  ctx: JobContext,
  [id, runId, completed, total]: MethodParams<'jobProgress'>,
): Promise<boolean | null> {
  // null tells the worker that the server is shutting down.
  if (ctx.state.stopped) return null;
  if (completed > total) {
    throw matchFailed(`completed (${completed}) must not exceed total (${total})`);
  }
  return ctx.store.transaction(async (tx) => {
    const job = await tx.get(id);
    if (!isCurrentRun(job, runId)) return false;
    const now = ctx.clock.now();
    return tx.update(
      id,
      { progress: { completed, total, percent: (100 * completed) / total }, updated: now, ...extendedLease(job, now) },
      currentRun(runId),
    );
  });
}

export async function jobLog(ctx: JobContext, [id, runId, message, options = {}]: MethodParams<'jobLog'>): Promise<boolean> {
  return ctx.store.transaction(async (tx) => {
    const job = await tx.get(id);
    if (job === undefined) return false;
    const now = ctx.clock.now();
    const entry = { time: now, runId, level: options.level ?? 'info', message, ...(options.data === undefined ? {} : { data: options.data }) };
    await tx.appendLog(id, [entry]);
    await tx.update(id, { updated: now, ...extendedLease(job, now) });
    return true;
  });
}

type DoneOptions = NonNullable<MethodParams<'jobDone'>[3]>;
type NextWork = NonNullable<DoneOptions['next']>;

/** What jobDone answers when it was given `next`. */
export interface DoneAndNext {
  /** jobDone's own answer. */
  done: boolean | string;
  /** The jobs claimed next, as getWork answers them. */
  jobs: JobDoc[];
}

/**
 * Completes the run. With `next`, in the same transaction, also claims the caller's next jobs
 * as getWork would; only when the done succeeded, so a worker whose run went stale (requeued,
 * cancelled) does not take on new work through it, and none while the job server is stopped.
 */
export async function jobDone(
  ctx: JobContext,
  [id, runId, result, options = {}]: MethodParams<'jobDone'>,
  caller: Caller,
): Promise<boolean | string | DoneAndNext> {
  const next = options.next;
  if (next === undefined) return ctx.store.transaction((tx) => completeRun(ctx, tx, id, runId, result, options));
  return claimingTransaction(ctx, caller.connectionId, async (tx) => {
    const done = await completeRun(ctx, tx, id, runId, result, options);
    // Nothing when the run was stale.
    const jobs = done === false ? [] : await claimNextFor(ctx, tx, next, caller);
    return { value: { done, jobs }, claimed: jobs.map((job) => job._id) };
  });
}

/** What jobDoneMany answers when it was given `next`. */
export interface ManyDoneAndNext {
  done: boolean[];
  jobs: JobDoc[];
}

/**
 * Completes many runs, each exactly as jobDone would; one run's refusal does not stop the
 * others. With `next`, also claims the caller's next jobs in the same transaction, as jobDone.
 */
export async function jobDoneMany(
  ctx: JobContext,
  [runs, options = {}]: MethodParams<'jobDoneMany'>,
  caller: Caller,
): Promise<boolean[] | ManyDoneAndNext> {
  const completeAll = async (tx: JobTransaction) => {
    const done: boolean[] = [];
    for (const run of runs) done.push((await completeRun(ctx, tx, run.id, run.runId, run.result ?? {}, {})) !== false);
    return done;
  };
  const next = options.next;
  if (next === undefined) return ctx.store.transaction(completeAll);
  return claimingTransaction(ctx, caller.connectionId, async (tx) => {
    const done = await completeAll(tx);
    const jobs = done.includes(true) ? await claimNextFor(ctx, tx, next, caller) : [];
    return { value: { done, jobs }, claimed: jobs.map((job) => job._id) };
  });
}

/** The jobs a worker asked for with `next`, claimed as getWork would; none while stopped. */
async function claimNextFor(ctx: JobContext, tx: JobTransaction, next: NextWork, caller: Caller): Promise<JobDoc[]> {
  if (ctx.state.stopped) return [];
  const request = workRequest(next.type, next);
  // Not the types a less-loaded worker waits for (§7.11).
  const left = ctx.dispatcher.typesForLessLoaded(request.types, caller.connectionId);
  const types = request.types.filter((type) => !left.has(type));
  return claimReady(ctx, tx, { ...request, types }, caller.connectionId);
}

async function completeRun(
  ctx: JobContext,
  tx: JobTransaction,
  id: string,
  runId: string,
  result: Record<string, unknown>,
  options: DoneOptions,
): Promise<boolean | string> {
  const job = await tx.get(id);
  if (!isCurrentRun(job, runId)) return false;
  const now = ctx.clock.now();
  const total = job.progress.total || 1;
  const completed = await tx.update(
    id,
    { status: 'completed', result, progress: { completed: total, total, percent: 100 }, updated: now, _private: undefined },
    currentRun(runId),
  );
  if (!completed) return false;
  await tx.appendLog(id, [logMessages.completed(now, runId)]);
  const wait = repeatWait(job, now);
  const repeatId = wait === undefined
    ? undefined
    : await cloneJob(ctx, tx, job, { repeats: job.repeats - 1, wait, until: job.repeatUntil });
  await resolveDependents(ctx, tx, job, options.delayDeps);
  await advanceChain(ctx, tx, job, result);
  return options.repeatId === true && repeatId !== undefined ? repeatId : true;
}

export async function jobFail(ctx: JobContext, [id, runId, err, options = {}]: MethodParams<'jobFail'>): Promise<boolean> {
  return ctx.store.transaction(async (tx) => {
    const job = await tx.get(id);
    if (!isCurrentRun(job, runId)) return false;
    return failRun(ctx, tx, job, err, options.fatal ?? false);
  });
}

/**
 * Fails the current run of a running job: it waits for a retry, or fails for good and
 * cancels its dependents. Also used by the server for expired leases and shutdown.
 */
export async function failRun(
  ctx: JobContext,
  tx: JobTransaction,
  job: StoredJob,
  err: Record<string, unknown>,
  fatal: boolean,
): Promise<boolean> {
  const runId = job.runId;
  if (runId === null) return false;
  const now = ctx.clock.now();
  const after = retryTime(job, now);
  const final = !willRetry(job, after, fatal);
  const failure = { ...err, runId };
  const failed = await tx.update(
    job._id,
    {
      status: final ? 'failed' : 'waiting',
      runId: null,
      after,
      updated: now,
      failures: [...(job.failures ?? []), failure],
      _private: undefined,
    },
    currentRun(runId),
  );
  if (!failed) return false;
  await tx.appendLog(job._id, [logMessages.failed(now, runId, final, err)]);
  if (final) {
    await cancelDependents(ctx, tx, job._id);
    await endChain(ctx, tx, job, 'failed', failure);
  }
  return true;
}
