/**
 * Valid job documents for tests, with meteor-job's defaults (what `new Job(root, type, data)`
 * followed by `save()` stores), so a test only spells out what it is about.
 */
import { randomInt } from 'node:crypto';
import { defaultWaitMs, foreverDate } from '../../shared/constants.ts';
import type { JobLogEntry } from '../../shared/job-doc.ts';
import type { StoredJob } from '../../server/store/job-store.ts';

const idAlphabet = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';

/** A random 17-character Meteor id. */
export function makeId(): string {
  let id = '';
  for (let i = 0; i < 17; i += 1) id += idAlphabet[randomInt(idAlphabet.length)];
  return id;
}

/**
 * A `waiting` job of type `test` with a fresh id, keys in document order, then `overrides`
 * (an override set to `undefined` removes the key, e.g. `{ repeatRetries: undefined }`).
 */
export function makeJob(overrides: Partial<StoredJob> = {}): StoredJob {
  const now = new Date();
  const job: StoredJob = {
    _id: makeId(),
    runId: null,
    type: 'test',
    status: 'waiting',
    data: {},
    priority: 0,
    depends: [],
    resolved: [],
    after: new Date(0),
    updated: now,
    created: new Date(now.getTime()),
    progress: { completed: 0, total: 1, percent: 0 },
    retries: 1,
    retried: 0,
    repeatRetries: 1,
    retryUntil: new Date(foreverDate.getTime()),
    retryWait: defaultWaitMs,
    retryBackoff: 'constant',
    repeats: 0,
    repeated: 0,
    repeatUntil: new Date(foreverDate.getTime()),
    repeatWait: defaultWaitMs,
  };
  // Assigning keeps the document order for overridden keys and appends new optional ones.
  Object.assign(job, overrides);
  const fields = job as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete fields[key];
  return job;
}

/** A log entry as the server writes them. */
export function makeLogEntry(message: string, overrides: Partial<JobLogEntry> = {}): JobLogEntry {
  return { time: new Date(), runId: null, level: 'info', message, ...overrides };
}
