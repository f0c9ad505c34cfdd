/**
 * Reading jobs by id: jobCollection's `getJob` (docs/PROTOCOL.md §2.3).
 *
 * getJob(ids: Id | [Id], options {getLog = false, getFailures = false})
 *   Guard: none (every role may read, §7.7). Reads committed data only.
 *   Answer: one id → the job or null; a list → the jobs found (any order), or null when none.
 *   `log` and `failures` only when asked for; `_private` never.
 *   Writes nothing; no feed change.
 */
import type { JobDoc } from '../../shared/job-doc.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { JobContext } from './context.ts';
import { forClient } from './job-docs.ts';

/** One id: the job or null. A list: the jobs found, or null when none (upstream's answer, kept for fidelity). */
export async function getJob(ctx: JobContext, [ids, options = {}]: MethodParams<'getJob'>): Promise<JobDoc | JobDoc[] | null> {
  const single = typeof ids === 'string';
  const wanted = single ? [ids] : ids;
  if (wanted.length === 0) return null;
  const failures = options.getFailures ?? false;
  const jobs = await ctx.store.getJobs(wanted, { log: options.getLog ?? false, failures });
  if (jobs.length === 0) return null;
  const docs = jobs.map((job) => forClient(job, { failures }));
  return single ? (docs[0] ?? null) : docs;
}
