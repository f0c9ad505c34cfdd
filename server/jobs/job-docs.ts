/** Small pure helpers over job documents shared by the operations. */
import type { JobDoc } from '../../shared/job-doc.ts';
import type { JobChanges, StoredJob } from '../store/job-store.ts';

/** The job as it is after `changes`, without reading it back from the store. */
export function withChanges(job: StoredJob, changes: JobChanges): StoredJob {
  const next: Record<string, unknown> = { ...job };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as StoredJob;
}

/** A document as clients may see it: never `_private`, `failures` only when asked for. */
export function forClient(job: StoredJob | JobDoc, options: { failures: boolean }): JobDoc {
  const { failures, _private: _hidden, ...visible } = job as JobDoc & { _private?: unknown };
  return options.failures && failures !== undefined ? { ...visible, failures } : visible;
}

export const resetProgress = () => ({ completed: 0, total: 1, percent: 0 });

/** A single id or a list, as the batch methods accept, as a list. */
export function idList(ids: string | string[]): string[] {
  return typeof ids === 'string' ? [ids] : ids;
}
