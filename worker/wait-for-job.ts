/**
 * Awaiting a job's end: `Job.waitFor(root, id)` / `job.result()`. The current state is read
 * first; a job still under way is then watched through the `<root>.jobs` publication, filtered
 * to its id, so its end is pushed to us the moment it is written — no polling.
 */
import { jobsCollectionName } from '../shared/constants.ts';
import type { JobDoc } from '../shared/job-doc.ts';
import type { DataMessage } from './connection.ts';
import { JobFailedError, JobNotFoundError, WaitTimeoutError } from './errors.ts';
import { callJobMethod } from './job-methods.ts';
import { connectionOf, rootName, type JobRoot } from './job-root.ts';
import { untilAnswered } from './until-answered.ts';

export interface WaitOptions {
  /** Give up (reject with `WaitTimeoutError`) after this long; the job itself goes on. */
  timeoutMs?: number;
}

/** A job's result. */
export type JobResult = Record<string, unknown>;

type Fields = Partial<JobDoc>;

/** How DDP data messages spell an id (Meteor's `MongoID.idStringify` for strings). */
function wireId(id: string): string {
  return /^[-~{]/.test(id) || /^[0-9a-f]{24}$/.test(id) ? `-${id}` : id;
}

/**
 * Resolves with the job's result once it has completed; rejects with `JobFailedError` (status
 * and failures) once it has failed for good or was cancelled, and with `JobNotFoundError` when
 * it does not exist or is removed. A job that fails and will be retried is still under way.
 */
export async function waitForJob<R extends JobResult = JobResult>(root: JobRoot, id: string, options: WaitOptions = {}): Promise<R> {
  if (typeof id !== 'string') throw new TypeError('waitFor needs a job id');
  const current = await readJob(root, id);
  if (current === undefined) throw new JobNotFoundError(id);
  const settled = await outcomeOf(root, id, current);
  if (settled !== undefined) return settled.result as R;
  return watch<R>(root, id, options);
}

interface Outcome {
  result: JobResult;
}

/** The result of a job in a final state (throws for failed and cancelled), or undefined while under way. */
async function outcomeOf(root: JobRoot, id: string, doc: Fields): Promise<Outcome | undefined> {
  switch (doc.status) {
    case 'completed':
      return { result: doc.result ?? {} };
    case 'failed':
    case 'cancelled': {
      // The publication leaves out failures; fetch them for the error.
      const full = await readJob(root, id, true);
      throw new JobFailedError(id, doc.status, full?.failures ?? []);
    }
    default:
      return undefined;
  }
}

/** Reads the job, again after a reconnect if need be: waiting must survive a dropped socket. */
async function readJob(root: JobRoot, id: string, failures = false): Promise<JobDoc | undefined> {
  const doc = await untilAnswered(root, () => callJobMethod(root, 'getJob', [id, failures ? { getFailures: true } : {}]));
  return doc === null || Array.isArray(doc) ? undefined : doc;
}

function watch<R extends JobResult>(root: JobRoot, id: string, { timeoutMs }: WaitOptions): Promise<R> {
  const connection = connectionOf(root);
  const collection = jobsCollectionName(rootName(root));
  const expected = wireId(id);
  return new Promise<R>((resolve, reject) => {
    let fields: Fields | undefined;
    let done = false;
    const finish = (error: unknown, result?: JobResult): void => {
      if (done) return;
      done = true;
      try {
        stopData();
        stopReset();
        subscription.stop();
        clearTimeout(timer);
      } finally {
        if (error === undefined) resolve(result as R);
        else reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    // Each chain ends in `finish`, which ignores all but its first call: nothing is left unhandled.
    const settle = (doc: Fields): void => {
      outcomeOf(root, id, doc)
        .then((outcome) => (outcome === undefined ? undefined : finish(undefined, outcome.result)))
        .catch((error: unknown) => finish(error));
    };
    const stopData = connection.onData((message: DataMessage) => {
      if (message.collection !== collection || message.id !== expected || done) return;
      if (message.msg === 'removed') {
        finish(new JobNotFoundError(id, true));
        return;
      }
      fields = message.msg === 'added' ? { ...message.fields } : { ...fields, ...message.fields };
      for (const key of message.cleared ?? []) delete (fields as Record<string, unknown>)[key];
      const status = fields.status;
      if (status === 'completed' || status === 'failed' || status === 'cancelled') settle(fields);
    });
    const subscription = connection.subscribe(collection, { ids: [id] });
    subscription.onReady(() => {
      if (fields !== undefined || done) return;
      // No `added` came: the job is gone, or this connection already holds its document through
      // another subscription (another waiter, say), for which the server's merge box sends no
      // second `added`. A read tells which; later changes reach us either way.
      readJob(root, id)
        .then((doc) => {
          if (doc === undefined) return finish(new JobNotFoundError(id, true));
          fields = { ...doc, ...fields };
          settle(fields);
        })
        .catch((error: unknown) => finish(error));
    });
    subscription.onError((error) => finish(error));
    const stopReset = connection.onDisconnect(() => {
      fields = undefined;
    });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(new WaitTimeoutError(id, timeoutMs)), timeoutMs);
  });
}
