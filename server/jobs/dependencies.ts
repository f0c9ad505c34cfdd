/** How a job's antecedents decide its fate: at save, on completion, on final failure (docs/PROTOCOL.md §3.6). */
import { jobStatusCancellable } from '../../shared/constants.ts';
import type { JobLogEntry } from '../../shared/job-doc.ts';
import type { JobTransaction, StoredJob } from '../store/job-store.ts';
import type { JobContext } from './context.ts';
import { cancelJobs } from './job-control.ts';
import { logMessages } from './log-messages.ts';
import { readyJobs } from './promote.ts';
import { msAfter } from './rules.ts';

const cascade = { antecedents: false, dependents: true } as const;

/**
 * Checks a just-saved job's antecedents: completed ones are resolved, and a missing, failed or
 * cancelled one cancels the job. Returns false when the job was cancelled.
 */
export async function checkDependsAtSave(ctx: JobContext, tx: JobTransaction, job: StoredJob): Promise<boolean> {
  if (job.depends.length === 0) return true;
  const now = ctx.clock.now();
  const log: JobLogEntry[] = [];
  const resolved: string[] = [];
  let cancel = false;
  for (const antecedentId of job.depends) {
    const antecedent = await tx.get(antecedentId);
    if (antecedent === undefined) {
      log.push(logMessages.antecedentMissing(now, antecedentId));
      cancel = true;
    } else if (antecedent.status === 'completed') {
      resolved.push(antecedentId);
      log.push(logMessages.resolved(now, antecedentId, antecedent.runId));
    } else if (antecedent.status === 'failed') {
      log.push(logMessages.antecedentFailed(now));
      cancel = true;
    } else if (antecedent.status === 'cancelled') {
      log.push(logMessages.antecedentCancelled(now));
      cancel = true;
    }
  }
  if (resolved.length > 0) {
    await tx.update(job._id, {
      depends: job.depends.filter((id) => !resolved.includes(id)),
      resolved: [...job.resolved, ...resolved],
    });
  }
  if (log.length > 0) await tx.appendLog(job._id, log);
  if (!cancel) return true;
  await cancelJobs(ctx, tx, [job._id], cascade);
  return false;
}

/**
 * Moves a completed job from its dependents' `depends` to their `resolved`, optionally
 * holding them back by `delayDeps` ms, then promotes those that are now free.
 */
export async function resolveDependents(
  ctx: JobContext,
  tx: JobTransaction,
  antecedent: StoredJob,
  delayDeps: number | undefined,
): Promise<void> {
  const dependents = await tx.dependentsOf([antecedent._id]);
  if (dependents.length === 0) return;
  const now = ctx.clock.now();
  const notBefore = delayDeps === undefined ? undefined : msAfter(now, delayDeps);
  for (const dependent of dependents) {
    await tx.update(dependent._id, {
      depends: dependent.depends.filter((id) => id !== antecedent._id),
      resolved: [...dependent.resolved, antecedent._id],
      updated: now,
      ...(notBefore !== undefined && notBefore > dependent.after ? { after: notBefore } : {}),
    });
    await tx.appendLog(dependent._id, [logMessages.resolved(now, antecedent._id, antecedent.runId)]);
  }
  await readyJobs(ctx, tx, dependents.map((job) => job._id));
}

/** A job that failed for good takes its dependents (and theirs) with it. */
export async function cancelDependents(ctx: JobContext, tx: JobTransaction, antecedentId: string): Promise<void> {
  const dependents = await tx.dependentsOf([antecedentId], jobStatusCancellable);
  await cancelJobs(ctx, tx, dependents.map((job) => job._id), cascade);
}
