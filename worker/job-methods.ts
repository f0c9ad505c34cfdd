/**
 * Typed job-collection calls: the parameters come from the shared method schemas, the answers
 * from the table below (docs/PROTOCOL.md §2.3 and the Cumulus extensions in `shared/methods.ts`).
 */
import type { ChainSubmitted, ChainWatchAnswer } from '../shared/chains.ts';
import type { JobWatchAnswer, OutcomeBatch } from '../shared/outcomes.ts';
import type { JobDoc } from '../shared/job-doc.ts';
import { methodName, type JobMethodName, type MethodParams } from '../shared/methods.ts';
import { connectionOf, type JobRoot } from './job-root.ts';

/** `jobDone` with `next`: its own answer, plus the jobs claimed for the caller. */
export interface DoneAndNext {
  done: boolean | string;
  jobs: JobDoc[];
}

export interface MethodResults {
  startJobServer: boolean;
  shutdownJobServer: boolean;
  startJobs: boolean;
  stopJobs: boolean;
  getJob: JobDoc | JobDoc[] | null;
  getWork: JobDoc[];
  jobRemove: boolean;
  jobPause: boolean;
  jobResume: boolean;
  jobReady: boolean;
  jobCancel: boolean;
  jobRestart: boolean;
  jobSave: string | null;
  jobRerun: string | false;
  jobProgress: boolean | null;
  jobLog: boolean;
  /** `DoneAndNext` only when `next` was asked for and the server supports it. */
  jobDone: boolean | string | DoneAndNext;
  /** `{ done, jobs }` when `next` was asked for. */
  jobDoneMany: boolean[] | { done: boolean[]; jobs: JobDoc[] };
  jobFail: boolean;
  jobSaveMany: (string | null)[];
  reclaimRuns: string[];
  releaseRuns: string[];
  chainSubmit: ChainSubmitted;
  chainWatch: ChainWatchAnswer;
  jobWatch: JobWatchAnswer;
  outcomes: OutcomeBatch;
  /** How many jobs of the filter the action applies to, and how many it changed. */
  jobBulk: { matched: number; changed: number };
  jobList: JobDoc[];
}

/** Calls `<root>_<name>` on the root's connection. */
export function callJobMethod<N extends JobMethodName>(root: JobRoot, name: N, params: MethodParams<N>): Promise<MethodResults[N]> {
  return connectionOf(root).apply<MethodResults[N]>(methodName(typeof root === 'string' ? root : root.root, name), params);
}

/** The options argument of a method (the second, unless `at` says otherwise), as its schema types it. */
export type OptionsOf<N extends JobMethodName, At extends number = 1> = NonNullable<MethodParams<N>[At]>;
