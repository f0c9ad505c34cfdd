/**
 * jobList(filter {types?, statuses?, text?, created?, updated?}, {limit?, order?, after?}) →
 * [JobDoc] (docs/PROTOCOL.md §7.17): a page of jobs without log and failures. Orders: newest
 * activity first (default), newest created first, most urgent first; a search (`text`) lists
 * newest saved first. Keyset paging: the next page is asked for `after` the last job of this
 * one, so a page costs the same at the millionth job as at the first. Writes nothing.
 */
import { matchFailed } from '../../shared/errors.ts';
import { jobListLimit, type MethodParams } from '../../shared/methods.ts';
import type { JobDoc } from '../../shared/job-doc.ts';
import { missingCursorKeys, type JobQuery } from '../store/job-store.ts';
import { queryWords } from '../store/search-words.ts';
import type { JobContext } from './context.ts';
import { forClient } from './job-docs.ts';

export async function jobList(ctx: JobContext, [filter, options = {}]: MethodParams<'jobList'>): Promise<JobDoc[]> {
  const query = jobQuery(filter);
  const order = options.order ?? 'updated-desc';
  const after = options.after;
  if (after !== undefined && query.text === undefined) {
    const missing = missingCursorKeys(order, after);
    if (missing.length > 0) throw matchFailed(`options.after: a page in ${order} order starts after a job's id and ${missing.join(' and ')}`);
  }
  const jobs = await ctx.store.list(query, { limit: options.limit ?? jobListLimit.default, order, ...(after === undefined ? {} : { after }) });
  return jobs.map((job) => forClient(job, { failures: false }));
}

/** The store query of a validated selection; a text without words is no criterion. */
export function jobQuery(filter: MethodParams<'jobList'>[0]): JobQuery {
  const { text, ...rest } = filter;
  return text === undefined || queryWords(text).length === 0 ? rest : { ...rest, text };
}
