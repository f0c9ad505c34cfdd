/**
 * Saving a job: jobCollection's `jobSave`, for new jobs and for re-saving a paused one
 * (docs/PROTOCOL.md §2.3), and `jobSaveMany` (§7.3).
 *
 * jobSave(doc: JobDoc (§3.1), {cancelRepeats = false})
 *   Guard: doc.status waiting | paused (else 400); a re-save (`_id` set) only of a paused job with
 *   runId null. Normalises counts, past dates and a schedule's first run.
 *   Answer: the id, or null (nothing saved, or cancelled at once by its antecedents).
 *   Writes: the job with server `created`/`updated` and runId null; log the sent entries, then
 *   `Job Submitted` (re-save: `Job Resubmitted`); antecedent checks (§3.6); `Promoted to ready`
 *   when due. Feed: inserted as waiting, ready or paused (a re-save: paused → waiting | ready).
 * jobSaveMany(docs [1..1000], {cancelRepeats}) → ids in order: the same for each, in one transaction.
 */
import { forever, jobStatusCancellable, jobStatusSavable } from '../../shared/constants.ts';
import { CumulusError, matchFailed } from '../../shared/errors.ts';
import type { JobLogEntry } from '../../shared/job-doc.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { JobSaveDoc } from '../../shared/schemas.ts';
import type { JobTransaction, StoredJob } from '../store/job-store.ts';
import type { JobContext } from './context.ts';
import { checkDependsAtSave } from './dependencies.ts';
import { cancelJobs } from './job-control.ts';
import { logMessages } from './log-messages.ts';
import { readyJobs } from './promote.ts';
import { capForever, isSchedule, notBefore } from './rules.ts';
import { firstRunAfter } from './schedule.ts';

/** Returns the job's id, or null when nothing was saved or the job was cancelled at once. */
export async function jobSave(ctx: JobContext, [doc, options = {}]: MethodParams<'jobSave'>): Promise<string | null> {
  checkSavable(doc, 'doc', options.id);
  return ctx.store.transaction((tx) => saveOne(ctx, tx, doc, { cancelRepeats: options.cancelRepeats === true, id: options.id }));
}

/** Saves many jobs in one transaction: all or, when any argument is bad, none. Ids in order. */
export async function jobSaveMany(ctx: JobContext, [docs, options = {}]: MethodParams<'jobSaveMany'>): Promise<(string | null)[]> {
  const { ids } = options;
  if (ids !== undefined && ids.length !== docs.length) {
    throw matchFailed(`options.ids: ${ids.length} ids for ${docs.length} docs; give one id per doc`);
  }
  const repeated = ids?.findIndex((id, i) => ids.indexOf(id) !== i) ?? -1;
  if (repeated !== -1) throw matchFailed(`options.ids.${repeated}: ${String(ids?.[repeated])} is given twice; each new job needs its own id`);
  docs.forEach((doc, i) => checkSavable(doc, `docs.${i}`, ids?.[i]));
  return ctx.store.transaction(async (tx) => {
    const saved: (string | null)[] = [];
    for (const [i, doc] of docs.entries()) {
      saved.push(await saveOne(ctx, tx, doc, { cancelRepeats: options.cancelRepeats === true, id: ids?.[i] }));
    }
    return saved;
  });
}

function checkSavable(doc: JobSaveDoc, where: string, newId: string | undefined): void {
  if (!jobStatusSavable.includes(doc.status)) {
    throw matchFailed(`${where}.status: a job can only be saved as ${jobStatusSavable.join(' or ')}`);
  }
  if (newId !== undefined && doc._id != null) {
    throw matchFailed(`${where}._id: a re-save names its job in _id, a new job's id goes in the options; not both`);
  }
}

interface SaveOptions {
  cancelRepeats: boolean;
  /** The client's id for a new job (docs/PROTOCOL.md §7.10). */
  id: string | undefined;
}

async function saveOne(ctx: JobContext, tx: JobTransaction, doc: JobSaveDoc, options: SaveOptions): Promise<string | null> {
  if (options.id !== undefined) {
    const existing = await tx.get(options.id);
    // The same save again, after its answer was lost: nothing more to do.
    if (existing?.type === doc.type) return existing._id;
    if (existing !== undefined) throw new CumulusError(409, 'Job id already used', `a job of type ${existing.type} has the id ${options.id}`);
  }
  const now = ctx.clock.now();
  const job = normalize(doc, now);
  if (job === undefined) return null;
  // What only the server writes is never taken from a client.
  const { _id: id, log = [], chain: _chain, parent: _parent, worker: _worker, ...fields } = job;
  if (id != null) return resave(ctx, tx, id, fields, now);
  if (options.cancelRepeats && fields.repeats === forever) {
    const sameType = await tx.find({ types: [fields.type], statuses: jobStatusCancellable });
    await cancelJobs(ctx, tx, sameType.map((j) => j._id), { antecedents: false, dependents: true });
  }
  // Server time in `created` and `updated`; a new job has no run yet (else it could never be claimed).
  const stored: StoredJob = { ...fields, _id: options.id ?? ctx.newId(), runId: null, created: now, updated: now };
  return (await insertJob(ctx, tx, stored, log)) ? stored._id : null;
}

/**
 * Inserts a new job with its log (then `Job Submitted`), checks its antecedents and promotes it
 * when due. False when its antecedents cancelled it at once.
 */
async function insertJob(ctx: JobContext, tx: JobTransaction, job: StoredJob, log: readonly JobLogEntry[] = []): Promise<boolean> {
  const now = ctx.clock.now();
  if (job.status === 'waiting' && job.depends.length === 0 && job.after <= now) {
    // The common case, due now and free: insert it ready, as the promotion below would leave it,
    // without writing it twice.
    await tx.insert({ ...job, status: 'ready', after: now }, [...log, logMessages.submitted(now), logMessages.readied(now)]);
    return true;
  }
  await tx.insert(job, [...log, logMessages.submitted(now)]);
  if (!(await checkDependsAtSave(ctx, tx, job))) return false;
  await readyJobs(ctx, tx, [job._id]);
  return true;
}

/**
 * Caps counts at `forever`, moves past dates to now (so a client's clock cannot hold a job
 * back), and starts a scheduled job at its first occurrence. Undefined when a schedule has
 * no occurrence before `repeatUntil`: nothing is saved.
 */
function normalize(doc: JobSaveDoc, now: Date): JobSaveDoc | undefined {
  const job: JobSaveDoc = {
    ...doc,
    repeats: capForever(doc.repeats),
    retries: capForever(doc.retries),
    after: notBefore(doc.after, now),
    retryUntil: notBefore(doc.retryUntil, now),
    repeatUntil: notBefore(doc.repeatUntil, now),
  };
  if (!isSchedule(job.repeatWait)) return job;
  const first = firstRunAfter(job.repeatWait, job.after);
  if (first === undefined || first > job.repeatUntil) return undefined;
  return { ...job, after: first };
}

/** Only a paused job with no current run can be re-saved; it comes back waiting. */
async function resave(
  ctx: JobContext,
  tx: JobTransaction,
  id: string,
  job: Omit<JobSaveDoc, '_id' | 'log' | 'chain' | 'parent' | 'worker'>,
  now: Date,
): Promise<string | null> {
  const changed = await tx.update(
    id,
    {
      status: 'waiting',
      data: job.data,
      retries: job.retries,
      repeatRetries: job.repeatRetries ?? job.retries + job.retried,
      retryUntil: job.retryUntil,
      retryWait: job.retryWait,
      retryBackoff: job.retryBackoff,
      repeats: job.repeats,
      repeatUntil: job.repeatUntil,
      repeatWait: job.repeatWait,
      depends: job.depends,
      priority: job.priority,
      after: job.after,
      updated: now,
    },
    { statuses: ['paused'], runId: null },
  );
  if (!changed) return null;
  await tx.appendLog(id, [logMessages.resubmitted(now)]);
  const saved = await tx.get(id);
  if (saved === undefined || !(await checkDependsAtSave(ctx, tx, saved))) return null;
  await readyJobs(ctx, tx, [id]);
  return id;
}
