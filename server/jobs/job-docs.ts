/** Small pure helpers over job documents shared by the operations. */
import { defaultWaitMs, foreverDate, jobPriorities, type RetryBackoff } from '../../shared/constants.ts';
import type { JobChainLink, JobDoc } from '../../shared/job-doc.ts';
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

/** What a new job made by the server (a chain's link) is given; the rest are meteor-job's defaults. */
export interface NewJobFields {
  id: string;
  type: string;
  data: Record<string, unknown>;
  now: Date;
  priority?: number;
  /** Attempts after the first (meteor-job's `retry(n)`). */
  retries?: number;
  retryWait?: number;
  retryBackoff?: RetryBackoff;
  name?: string | undefined;
  chain?: JobChainLink;
  parent?: string | undefined;
}

/** A new waiting job with meteor-job's defaults, keys in document order (docs/PROTOCOL.md §3.1). */
export function newJobDocument(fields: NewJobFields): StoredJob {
  const attempts = (fields.retries ?? 0) + 1;
  return {
    _id: fields.id,
    runId: null,
    type: fields.type,
    status: 'waiting',
    data: fields.data,
    priority: fields.priority ?? jobPriorities.normal,
    depends: [],
    resolved: [],
    after: fields.now,
    updated: fields.now,
    created: fields.now,
    progress: resetProgress(),
    retries: attempts,
    retried: 0,
    repeatRetries: attempts,
    retryUntil: new Date(foreverDate),
    retryWait: fields.retryWait ?? defaultWaitMs,
    retryBackoff: fields.retryBackoff ?? 'constant',
    repeats: 0,
    repeated: 0,
    repeatUntil: new Date(foreverDate),
    repeatWait: defaultWaitMs,
    ...(fields.name === undefined ? {} : { name: fields.name }),
    ...(fields.chain === undefined ? {} : { chain: fields.chain }),
    ...(fields.parent === undefined ? {} : { parent: fields.parent }),
  };
}
