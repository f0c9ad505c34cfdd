/** The job-collection operations by method name: `(ctx, validated params) => result`. */
import type { JobMethodName, MethodParams } from '../../shared/methods.ts';
import type { JobContext } from './context.ts';
import { getJob } from './get-job.ts';
import { getWork } from './get-work.ts';
import { jobCancel, jobPause, jobReady, jobRemove, jobRestart, jobResume } from './job-control.ts';
import { jobDone, jobFail, jobLog, jobProgress } from './job-run.ts';
import { jobRerun } from './job-rerun.ts';
import { jobSave } from './job-save.ts';
import { shutdownJobServer, startJobServer } from './server-control.ts';

export type JobOperation<N extends JobMethodName> = (ctx: JobContext, params: MethodParams<N>) => Promise<unknown>;

export const jobOperations: { [N in JobMethodName]: JobOperation<N> } = {
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
  jobFail,
};

export type { JobContext, RunState, Clock } from './context.ts';
export { systemClock } from './context.ts';
export { PromotionScheduler, type SchedulerOptions } from './scheduler.ts';
