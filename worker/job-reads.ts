/**
 * The `Job` statics that read or claim jobs and answer them as `Job` objects: `getWork`,
 * `getJob`, `getJobs`. (`Job` imports them; they use `Job` only when called.)
 */
import { attempt, deliver, optionsAndCallback, type NodeCallback } from './callback-style.ts';
import { chunks, chunkSizes } from './job-admin.ts';
import type { JobData } from './job-builder.ts';
import { callJobMethod, type OptionsOf } from './job-methods.ts';
import type { JobRoot } from './job-root.ts';
import { Job } from './job.ts';

type Cb<T> = NodeCallback<T>;

export type GetJobOptions = OptionsOf<'getJob'>;

export interface GetWorkOptions {
  /** Claim up to this many jobs and answer an array; without it, answer one job or undefined. */
  maxJobs?: number;
  /** The lease: the server fails the run if it hears nothing for this long. */
  workTimeout?: number;
  /** Cumulus: when nothing is ready, wait up to this long for a job to become ready. */
  waitMs?: number;
}

/**
 * Claims ready jobs of a type (or types): one job or undefined, or with `maxJobs` an array.
 * Workers normally use {@link Job.processJobs} instead.
 */
export function getWork<D extends JobData = JobData>(root: JobRoot, type: string | readonly string[], options: GetWorkOptions & { maxJobs: number }): Promise<Job<D>[]>;
export function getWork<D extends JobData = JobData>(root: JobRoot, type: string | readonly string[], options?: GetWorkOptions): Promise<Job<D> | undefined>;
export function getWork<D extends JobData = JobData>(root: JobRoot, type: string | readonly string[], options: GetWorkOptions & { maxJobs: number }, cb: Cb<Job<D>[]>): void;
export function getWork<D extends JobData = JobData>(root: JobRoot, type: string | readonly string[], cb: Cb<Job<D> | undefined>): void;
export function getWork<D extends JobData = JobData>(root: JobRoot, type: string | readonly string[], options: GetWorkOptions, cb: Cb<Job<D> | undefined>): void;
export function getWork<D extends JobData = JobData>(
  root: JobRoot,
  type: string | readonly string[],
  options?: GetWorkOptions | Cb<never>,
  cb?: Cb<never>,
): Promise<Job<D>[] | Job<D> | undefined> | void {
  // The callback's result type depends on the overload; inside, one wide type does.
  type Answer = Job<D>[] | Job<D> | undefined;
  const [given, callback] = optionsAndCallback<GetWorkOptions, Answer>(options as GetWorkOptions | Cb<Answer>, cb as Cb<Answer>);
  return deliver(attempt(async () => {
    if (given.workTimeout !== undefined && !(Number.isInteger(given.workTimeout) && given.workTimeout > 0)) {
      throw new Error('getWork: workTimeout must be a positive integer');
    }
    const types = typeof type === 'string' ? [type] : [...type];
    const docs = await callJobMethod(root, 'getWork', [types, given]);
    if (!Array.isArray(docs)) throw new Error('Nonarray response from server from getWork()');
    const jobs = docs.map((doc) => new Job<D>(root, doc));
    return given.maxJobs === undefined ? jobs[0] : jobs;
  }), callback);
}

/** One job by id (`getLog`, `getFailures` to include those), or undefined. */
export function getJob<D extends JobData = JobData>(root: JobRoot, id: string, options?: GetJobOptions): Promise<Job<D> | undefined>;
export function getJob<D extends JobData = JobData>(root: JobRoot, id: string, cb: Cb<Job<D> | undefined>): void;
export function getJob<D extends JobData = JobData>(root: JobRoot, id: string, options: GetJobOptions, cb: Cb<Job<D> | undefined>): void;
export function getJob<D extends JobData = JobData>(
  root: JobRoot,
  id: string,
  options?: GetJobOptions | Cb<Job<D> | undefined>,
  cb?: Cb<Job<D> | undefined>,
): Promise<Job<D> | undefined> | void {
  const [given, callback] = optionsAndCallback<GetJobOptions, Job<D> | undefined>(options, cb);
  return deliver(attempt(async (): Promise<Job<D> | undefined> => {
    const doc = await callJobMethod(root, 'getJob', [id, { getLog: false, ...given }]);
    return doc === null || Array.isArray(doc) ? undefined : new Job<D>(root, doc);
  }), callback);
}

/**
 * Many jobs by id, 32 per call as meteor-job asks. Missing ids are skipped (meteor-job added
 * a null per empty chunk and rebuilt each job from type and data only, losing its state).
 */
export function getJobs<D extends JobData = JobData>(root: JobRoot, ids: readonly string[], options?: GetJobOptions): Promise<Job<D>[]>;
export function getJobs<D extends JobData = JobData>(root: JobRoot, ids: readonly string[], cb: Cb<Job<D>[]>): void;
export function getJobs<D extends JobData = JobData>(root: JobRoot, ids: readonly string[], options: GetJobOptions, cb: Cb<Job<D>[]>): void;
export function getJobs<D extends JobData = JobData>(
  root: JobRoot,
  ids: readonly string[],
  options?: GetJobOptions | Cb<Job<D>[]>,
  cb?: Cb<Job<D>[]>,
): Promise<Job<D>[]> | void {
  const [given, callback] = optionsAndCallback(options, cb);
  return deliver(attempt(async () => {
    const parts = chunks(ids, chunkSizes.getJobs);
    const answers = await Promise.all(parts.map((part) => callJobMethod(root, 'getJob', [part, { getLog: false, ...given }])));
    return answers.flatMap((docs) => (Array.isArray(docs) ? docs : [])).map((doc) => new Job<D>(root, doc));
  }), callback);
}
