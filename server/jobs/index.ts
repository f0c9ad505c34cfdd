/** The job-collection operations by method name: `(ctx, validated params) => result`. */
import type { JobMethodName, MethodParams } from '../../shared/methods.ts';
import type { Caller, JobContext } from './context.ts';
import { jobBulk } from './bulk-actions.ts';
import { getJob } from './get-job.ts';
import { getWork } from './get-work.ts';
import { jobList } from './list-jobs.ts';
import { jobCancel, jobPause, jobReady, jobRemove, jobRestart, jobResume } from './job-control.ts';
import { jobDone, jobDoneMany, jobFail, jobLog, jobProgress } from './job-run.ts';
import { jobRerun } from './job-rerun.ts';
import { jobSave, jobSaveMany } from './job-save.ts';
import { reclaimRuns, releaseRuns } from './claims.ts';
import { chainSubmit } from './chains.ts';
import { chainWatch, jobWatch, outcomes } from './outcomes.ts';
import { shutdownJobServer, startJobServer } from './server-control.ts';

export type JobOperation<N extends JobMethodName> = (ctx: JobContext, params: MethodParams<N>, caller: Caller) => Promise<unknown>;

export const jobOperations = {
  startJobServer,
  shutdownJobServer,
  startJobs: startJobServer,
  stopJobs: shutdownJobServer,
  getJob,
  getWork,
  jobRemove,
  jobPause,
  jobResume,
  jobReady,
  jobCancel,
  jobRestart,
  jobSave,
  jobRerun,
  jobProgress,
  jobLog,
  jobDone,
  jobDoneMany,
  jobFail,
  jobSaveMany,
  reclaimRuns,
  releaseRuns,
  chainSubmit,
  chainWatch,
  jobWatch,
  jobBulk,
  jobList,
  outcomes,
} satisfies { [N in JobMethodName]: JobOperation<N> };

export type { Caller, JobContext, Clock } from './context.ts';
export { serverCaller, systemClock } from './context.ts';
export { createCollectionRuntime, type CollectionRuntime, type CollectionRuntimeDeps, type CollectionRuntimeOptions } from './collection-runtime.ts';
