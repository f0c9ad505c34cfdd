/**
 * jobList(filter {types?, statuses?}, {limit?, after?: {updated, id}}) → [JobDoc]
 * (docs/PROTOCOL.md §7.17): a page of jobs, newest activity first (ties by id, descending),
 * without log and failures. Keyset paging: the next page is asked for `after` the last job of
 * this one, so a page costs the same at the millionth job as at the first. Writes nothing.
 */
import { jobListLimit, type MethodParams } from '../../shared/methods.ts';
import type { JobDoc } from '../../shared/job-doc.ts';
import type { JobContext } from './context.ts';
import { forClient } from './job-docs.ts';

export async function jobList(ctx: JobContext, [filter, options = {}]: MethodParams<'jobList'>): Promise<JobDoc[]> {
  const jobs = await ctx.store.list(
    { ...(filter.types === undefined ? {} : { types: filter.types }), ...(filter.statuses === undefined ? {} : { statuses: filter.statuses }) },
    { limit: options.limit ?? jobListLimit.default, order: 'updated-desc', ...(options.after === undefined ? {} : { after: options.after }) },
  );
  return jobs.map((job) => forClient(job, { failures: false }));
}
