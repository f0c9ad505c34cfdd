/**
 * The Cumulus worker library: connect to a Cumulus server, build and save jobs, process them,
 * administer them, await their results. meteor-job's API, typed, with promises beside the
 * callbacks.
 *
 * @example
 * import { connect, Job } from './worker/index.ts';
 * const connection = await connect('http://127.0.0.1:3000');
 * await new Job('queue', 'email', { to: 'a@example.com' }).retry({ retries: 3, wait: 5000 }).save();
 * const queue = Job.processJobs('queue', 'email', { concurrency: 4 }, async (job) => send(job.data));
 * // …
 * await queue.shutdown({ level: 'soft' });
 * await connection.close();
 */
export { connect, CumulusConnection, type ConnectionState, type DataMessage, type LoginResult } from './connection.ts';
export { connectDefaults, type ConnectOptions } from './connection-options.ts';
export type { Subscription } from './subscriptions.ts';
export { Job, type LogOptions, type ProgressOptions, type RerunOptions } from './job.ts';
export type { GetJobOptions, GetWorkOptions } from './job-reads.ts';
export type { JobData, JobDocument, RepeatOptions, RetryOptions } from './job-builder.ts';
export type { CancelOptions, NoOptions, ReadyOptions, RestartOptions, ShutdownServerOptions } from './job-admin.ts';
export type { DoneOptions, FailOptions } from './completion.ts';
export { JobQueue, type JobQueueEvents, type ShutdownLevel, type ShutdownOptions } from './job-queue.ts';
export type { JobFactory } from './job-factory.ts';
export {
  queueDefaults, type CallbackWorker, type JobQueueOptions, type JobWorker, type PromiseWorker, type WorkerCallback, type WorkOf,
} from './queue-options.ts';
export type { JobRoot } from './job-root.ts';
export type { SaveOptions } from './save-many.ts';
export type { JobResult, WaitOptions } from './wait-for-job.ts';
export type {
  AnswerFor, AnswerType, CallbackAlone, GenericWithCallback, ItselfAnswer, NodeCallback, WithCallback,
} from './callback-style.ts';
export {
  ConnectionClosedError, DisconnectedError, JobFailedError, JobNotFoundError, RpcJobError, RpcTimeoutError, WaitTimeoutError,
} from './errors.ts';
export { run, submit, type RpcCallback, type RpcJob, type SubmitOptions } from './rpc.ts';
export { serve, type Handler, type HandlerContext, type ServeOptions, type Served, type Ticket } from './serve.ts';
export { rainCloud, rainMaker, type AtmosphereOptions, type RainBucket } from './atmosphere.ts';
export { CumulusError } from '../shared/errors.ts';
export {
  forever, foreverDate, jobLogLevels, jobPriorities, jobStatuses, jobStatusCancellable, jobStatusPausable, jobStatusRemovable,
  jobStatusRestartable, type JobPriorityName, type JobStatus, type LogLevel, type RetryBackoff,
} from '../shared/constants.ts';
export type { JobDoc, JobLogEntry, JobProgress, LaterSchedule } from '../shared/job-doc.ts';
