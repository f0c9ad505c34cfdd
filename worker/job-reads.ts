/**
 * The `Job` statics that read or claim jobs and answer them as `Job` objects: `getWork`,
 * `getJob`, `getJobs`. `Job` makes them with {@link jobReads}, handing over how to make its
 * objects (this module imports `Job` for its types only).
 */
import { callStyle, type AnswerType, type GenericWithCallback, type NodeCallback } from './callback-style.ts';
import { chunks, chunkSizes } from './job-admin.ts';
import type { JobData } from './job-builder.ts';
import type { JobFactory } from './job-factory.ts';
import { callJobMethod, type OptionsOf } from './job-methods.ts';
import type { JobRoot } from './job-root.ts';
import type { Job } from './job.ts';

export type GetJobOptions = OptionsOf<'getJob'>;

export interface GetWorkOptions {
  /** Claim up to this many jobs and answer an array; without it, answer one job or undefined. */
  maxJobs?: number;
  /** The lease: the server fails the run if it hears nothing for this long. */
  workTimeout?: number;
  /** Cumulus: when nothing is ready, wait up to this long for a job to become ready. */
  waitMs?: number;
}

/** One job of the caller's data type, or undefined. */
export interface OneJob extends AnswerType {
  readonly type: Job<Extract<this['arg'], JobData>> | undefined;
}

/** Jobs of the caller's data type. */
export interface ManyJobs extends AnswerType {
  readonly type: Job<Extract<this['arg'], JobData>>[];
}

type Types = string | readonly string[];

/** `getWork` with `maxJobs`, which answers an array (the options are required, unlike in the other forms). */
interface GetWorkMany {
  <D extends JobData = JobData>(root: JobRoot, type: Types, options: GetWorkOptions & { maxJobs: number }): Promise<Job<D>[]>;
  <D extends JobData = JobData>(root: JobRoot, type: Types, options: GetWorkOptions & { maxJobs: number }, cb: NodeCallback<Job<D>[]>): void;
}

/** `Job.getWork`: with `maxJobs` an array of jobs, without it one job or undefined. */
export type GetWork = GetWorkMany & GenericWithCallback<[root: JobRoot, type: Types], GetWorkOptions, OneJob, JobData>;

/** `Job.getJob`. */
export type GetJob = GenericWithCallback<[root: JobRoot, id: string], GetJobOptions, OneJob, JobData>;

/** `Job.getJobs`. */
export type GetJobs = GenericWithCallback<[root: JobRoot, ids: readonly string[]], GetJobOptions, ManyJobs, JobData>;

export interface JobReads {
  getWork: GetWork;
  getJob: GetJob;
  getJobs: GetJobs;
}

/** The read statics, answering the jobs `toJob` makes of the documents. */
export function jobReads(toJob: JobFactory): JobReads {
  // The answer's type depends on `maxJobs`, which GetWork's forms tell apart; inside, one wide type does.
  type AnyWork = GenericWithCallback<[root: JobRoot, type: Types], GetWorkOptions, OneJob | ManyJobs, JobData>;
  const getWork: AnyWork = callStyle(2, async (root, type, given) => {
    if (given.workTimeout !== undefined && !(Number.isInteger(given.workTimeout) && given.workTimeout > 0)) {
      throw new Error('getWork: workTimeout must be a positive integer');
    }
    const types = typeof type === 'string' ? [type] : [...type];
    const docs = await callJobMethod(root, 'getWork', [types, given]);
    if (!Array.isArray(docs)) throw new Error('Nonarray response from server from getWork()');
    const jobs = docs.map((doc) => toJob(root, doc));
    return given.maxJobs === undefined ? jobs[0] : jobs;
  });

  const getJob: GetJob = callStyle(2, async (root, id, given) => {
    const doc = await callJobMethod(root, 'getJob', [id, { getLog: false, ...given }]);
    return doc === null || Array.isArray(doc) ? undefined : toJob(root, doc);
  });

  const getJobs: GetJobs = callStyle(2, async (root, ids, given) => {
    const parts = chunks(ids, chunkSizes.getJobs);
    const answers = await Promise.all(parts.map((part) => callJobMethod(root, 'getJob', [part, { getLog: false, ...given }])));
    return answers.flatMap((docs) => (Array.isArray(docs) ? docs : [])).map((doc) => toJob(root, doc));
  });

  return { getWork: getWork as unknown as GetWork, getJob, getJobs };
}
