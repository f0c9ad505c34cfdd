/**
 * `Job`: meteor-job's client API, typed. A job is built with a chainable builder and saved;
 * a worker reports on the run it was given (log, progress, done, fail); admins change jobs
 * one by one or in batches through the statics. Every call takes an optional node-style
 * callback last and answers a promise when it has none.
 */
import {
  forever, foreverDate, jobLogLevels, jobPriorities, jobRetryBackoffMethods, jobStatusCancellable, jobStatuses,
  jobStatusPausable, jobStatusRemovable, jobStatusRestartable, type JobPriorityName, type LogLevel,
} from '../shared/constants.ts';
import type { JobDoc } from '../shared/job-doc.ts';
import { jobMethodNames, permissionGroups } from '../shared/methods.ts';
import { attempt, deliver, optionsAndCallback, type NodeCallback } from './callback-style.ts';
import { sendDone, sendFail, sendLog, sendProgress, type DoneOptions, type FailOptions, type RunRef } from './completion.ts';
import type { CumulusConnection } from './connection.ts';
import { useConnection } from './connection-registry.ts';
import * as admin from './job-admin.ts';
import * as reads from './job-reads.ts';
import type { GetJobOptions } from './job-reads.ts';
import type { CancelOptions, NoOptions, ReadyOptions, RestartOptions } from './job-admin.ts';
import {
  asPayload, checkedAfter, checkedLogLevel, delayedAfter, newJobDocument, priorityValue, repeatFields, retryFields,
  type JobData, type JobDocument, type RepeatOptions, type RetryOptions,
} from './job-builder.ts';
import { callJobMethod, type OptionsOf } from './job-methods.ts';
import { JobQueue, type JobQueueOptions, type JobWorker, type WorkOf } from './job-queue.ts';
import { rootName, type JobRoot } from './job-root.ts';
import { markReported } from './run-state.ts';
import { saveMany, type SaveOptions } from './save-many.ts';
import { waitForJob, type JobResult, type WaitOptions } from './wait-for-job.ts';

export interface LogOptions {
  level?: LogLevel;
  data?: Record<string, unknown>;
  /** Accepted for meteor-job compatibility and ignored: the library never prints. */
  echo?: boolean | LogLevel;
}

export interface ProgressOptions {
  /** Accepted for meteor-job compatibility and ignored. */
  echo?: boolean;
}

export type RerunOptions = Partial<OptionsOf<'jobRerun'>>;

type Cb<T> = NodeCallback<T>;

function isCallback<T>(value: unknown): value is Cb<T> {
  return typeof value === 'function';
}

export class Job<Data extends JobData = JobData> {
  /** "Unlimited" retries or repeats. */
  static readonly forever = forever;
  /** "No deadline". */
  static readonly foreverDate = foreverDate;
  static readonly jobPriorities = jobPriorities;
  static readonly jobRetryBackoffMethods = jobRetryBackoffMethods;
  static readonly jobStatuses = jobStatuses;
  static readonly jobLogLevels = jobLogLevels;
  static readonly jobStatusCancellable = jobStatusCancellable;
  static readonly jobStatusPausable = jobStatusPausable;
  static readonly jobStatusRemovable = jobStatusRemovable;
  static readonly jobStatusRestartable = jobStatusRestartable;
  /** Method names under a root (`<root>_<name>`), including the Cumulus extensions. */
  static readonly ddpMethods = jobMethodNames;
  static readonly ddpPermissionLevels = permissionGroups;

  static readonly pauseJobs = admin.pauseJobs;
  static readonly resumeJobs = admin.resumeJobs;
  static readonly readyJobs = admin.readyJobs;
  static readonly cancelJobs = admin.cancelJobs;
  static readonly restartJobs = admin.restartJobs;
  static readonly removeJobs = admin.removeJobs;
  static readonly startJobServer = admin.startJobServer;
  static readonly shutdownJobServer = admin.shutdownJobServer;
  static readonly startJobs = admin.startJobs;
  static readonly stopJobs = admin.stopJobs;

  /** The collection root's name. */
  readonly root: string;
  private readonly handle: JobRoot;
  private document: JobDocument<Data>;

  /** A new job of `type` carrying `data`, with meteor-job's defaults; build it, then `save()`. */
  constructor(root: JobRoot, type: string, data: Data);
  /** A job object for a document the server returned (getWork, getJob). */
  constructor(root: JobRoot, doc: JobDocument<Data> | JobDoc);
  constructor(root: JobRoot, typeOrDoc: string | JobDocument<Data> | JobDoc, data?: Data) {
    this.root = rootName(root);
    this.handle = root;
    if (typeof typeOrDoc === 'string') {
      this.document = newJobDocument(typeOrDoc, data as Data);
    } else if (typeof typeOrDoc === 'object' && typeOrDoc !== null && typeof typeOrDoc.type === 'string' && typeof typeOrDoc.data === 'object') {
      this.document = typeOrDoc as JobDocument<Data>;
    } else {
      throw new TypeError('new Job(root, type, data) or new Job(root, doc): doc needs a type and data');
    }
  }

  /** The job document (live: builder calls and `refresh()` change it). */
  get doc(): JobDocument<Data> {
    return this.document;
  }

  get type(): string {
    return this.document.type;
  }

  get data(): Data {
    return this.document.data;
  }

  /** The job's id, once saved. */
  get id(): string | undefined {
    return this.document._id;
  }

  // ---- builder (chainable, before save) ----

  /** `low`, `normal`, `medium`, `high`, `critical`, or an integer; lower runs first. */
  priority(level: JobPriorityName | number = 0): this {
    this.document.priority = priorityValue(level);
    return this;
  }

  /** `retry(n)`: n retries after the first attempt. Options: `{retries, wait, backoff, until}`. */
  retry(options: number | RetryOptions = 0): this {
    Object.assign(this.document, retryFields(options));
    return this;
  }

  /** `repeat(n)`: n more runs after the first. Options: `{repeats, wait | schedule, until}`. */
  repeat(options: number | RepeatOptions = 0): this {
    Object.assign(this.document, repeatFields(options));
    return this;
  }

  /** Not before `ms` milliseconds from now. */
  delay(ms = 0): this {
    this.document.after = delayedAfter(ms);
    return this;
  }

  /** Not before `time`. */
  after(time?: Date): this {
    this.document.after = checkedAfter(time);
    return this;
  }

  /** Runs only after these saved jobs completed; a falsy argument clears the list. */
  depends(jobs?: Job | readonly Job[] | null): this {
    const list = jobs instanceof Job ? [jobs] : (jobs ?? []);
    if (!Array.isArray(list)) throw new Error('depends() accepts a Job, an array of Jobs or nothing');
    const ids = list.map((job: unknown) => {
      if (!(job instanceof Job) || job.id === undefined) throw new Error('Each dependency must be a saved Job (with an _id)');
      return job.id;
    });
    this.document.depends = jobs ? [...this.document.depends, ...ids] : [];
    this.document.resolved = [];
    return this;
  }

  // ---- saving and reading ----

  /** Saves a new job (or re-saves a paused one); answers its id, or null when nothing was saved. */
  save(options?: SaveOptions): Promise<string | null>;
  save(cb: Cb<string | null>): void;
  save(options: SaveOptions, cb: Cb<string | null>): void;
  save(options?: SaveOptions | Cb<string | null>, cb?: Cb<string | null>): Promise<string | null> | void {
    const [given, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(async () => {
      const id = await callJobMethod(this.handle, 'jobSave', [this.document as never, given]);
      if (id) this.document._id = id;
      return id;
    }), callback);
  }

  /** Reloads the document from the server; answers the job, or false when it is gone. */
  refresh(options?: GetJobOptions): Promise<this | false>;
  refresh(cb: Cb<this | false>): void;
  refresh(options: GetJobOptions, cb: Cb<this | false>): void;
  refresh(options?: GetJobOptions | Cb<this | false>, cb?: Cb<this | false>): Promise<this | false> | void {
    const [given, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(async () => {
      const id = this.savedId('refresh');
      const doc = await callJobMethod(this.handle, 'getJob', [id, { getLog: false, ...given }]);
      if (doc === null || Array.isArray(doc)) return false;
      this.document = doc as JobDocument<Data>;
      return this;
    }), callback);
  }

  /**
   * Resolves with the job's result once it completes; rejects with `JobFailedError` once it has
   * failed for good or was cancelled. Watches the job live; see {@link Job.waitFor}.
   */
  result<R extends JobResult = JobResult>(options?: WaitOptions): Promise<R>;
  result<R extends JobResult = JobResult>(cb: Cb<R>): void;
  result<R extends JobResult = JobResult>(options: WaitOptions, cb: Cb<R>): void;
  result<R extends JobResult = JobResult>(options?: WaitOptions | Cb<R>, cb?: Cb<R>): Promise<R> | void {
    const [given, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(() => waitForJob<R>(this.handle, this.savedId('result'), given)), callback);
  }

  // ---- reporting on a run (the worker's side) ----

  /**
   * Adds a log entry (to the document until the job is saved). Answers true when written.
   * Retried after a reconnect.
   */
  log(message: string, options?: LogOptions): Promise<boolean>;
  log(message: string, cb: Cb<boolean>): void;
  log(message: string, options: LogOptions, cb: Cb<boolean>): void;
  log(message: string, options?: LogOptions | Cb<boolean>, cb?: Cb<boolean>): Promise<boolean> | void {
    const [given, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(async () => {
      if (typeof message !== 'string') throw new TypeError('Log message must be a string');
      const level = checkedLogLevel(given.level);
      const entry = { level, ...(given.data === undefined ? {} : { data: given.data }) };
      if (this.document._id === undefined) {
        (this.document.log ??= []).push({ time: new Date(), runId: null, message, ...entry });
        return true;
      }
      return sendLog(this.handle, this.document._id, this.document.runId, message, entry);
    }), callback);
  }

  /**
   * Reports progress of the current run. Answers false when the run is no longer current, and
   * null when the job server is shutting down (time to stop). Retried after a reconnect.
   */
  progress(completed?: number, total?: number, options?: ProgressOptions): Promise<boolean | null>;
  progress(completed: number, total: number, cb: Cb<boolean | null>): void;
  progress(completed: number, total: number, options: ProgressOptions, cb: Cb<boolean | null>): void;
  progress(completed = 0, total = 1, options?: ProgressOptions | Cb<boolean | null>, cb?: Cb<boolean | null>): Promise<boolean | null> | void {
    const [, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(async () => {
      if (!(typeof completed === 'number' && typeof total === 'number' && completed >= 0 && total > 0 && total >= completed)) {
        throw new RangeError(`job.progress: ${completed} out of ${total} is not a valid progress`);
      }
      const progress = { completed, total, percent: (100 * completed) / total };
      if (this.document._id === undefined) {
        this.document.progress = progress;
        return true;
      }
      const answer = await sendProgress(this.runRef('progress'), completed, total);
      if (answer) this.document.progress = progress;
      return answer;
    }), callback);
  }

  /**
   * Completes the current run with `result` (a non-object becomes `{value: result}`). Answers
   * true, the repeat's id (with `repeatId`), or false when the run is no longer current.
   * Retried after a reconnect; a retry finds out whether the first attempt had landed.
   */
  done(result?: unknown, options?: DoneOptions): Promise<boolean | string>;
  done(cb: Cb<boolean | string>): void;
  done(result: unknown, cb: Cb<boolean | string>): void;
  done(result: unknown, options: DoneOptions, cb: Cb<boolean | string>): void;
  done(result?: unknown, options?: DoneOptions | Cb<boolean | string>, cb?: Cb<boolean | string>): Promise<boolean | string> | void {
    if (isCallback<boolean | string>(result)) return this.done(undefined, {}, result);
    const [given, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(async () => {
      const run = this.runRef('done');
      markReported(this);
      return (await sendDone(run, asPayload(result, {}), given)).done;
    }), callback);
  }

  /**
   * Fails the current run with `error` (an Error becomes `{value: message, name, stack}`, another
   * non-object `{value: error}`). The server retries the job if it has retries left and the
   * failure is not `fatal`. Retried after a reconnect, like `done`.
   */
  fail(error?: unknown, options?: FailOptions): Promise<boolean>;
  fail(cb: Cb<boolean>): void;
  fail(error: unknown, cb: Cb<boolean>): void;
  fail(error: unknown, options: FailOptions, cb: Cb<boolean>): void;
  fail(error?: unknown, options?: FailOptions | Cb<boolean>, cb?: Cb<boolean>): Promise<boolean> | void {
    if (isCallback<boolean>(error)) return this.fail(undefined, {}, error);
    const [given, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(async () => {
      const run = this.runRef('fail');
      markReported(this);
      return sendFail(run, asPayload(error, 'No error information provided'), { fatal: false, ...given });
    }), callback);
  }

  // ---- changing one job (the admin's side) ----

  /** Pauses a ready or waiting job (an unsaved job is then saved paused). */
  pause(options?: NoOptions): Promise<boolean>;
  pause(cb: Cb<boolean>): void;
  pause(options: NoOptions, cb: Cb<boolean>): void;
  pause(options?: NoOptions | Cb<boolean>, cb?: Cb<boolean>): Promise<boolean> | void {
    return this.statusCall('jobPause', 'paused', options, cb);
  }

  /** Resumes a paused job (an unsaved job is then saved waiting). */
  resume(options?: NoOptions): Promise<boolean>;
  resume(cb: Cb<boolean>): void;
  resume(options: NoOptions, cb: Cb<boolean>): void;
  resume(options?: NoOptions | Cb<boolean>, cb?: Cb<boolean>): Promise<boolean> | void {
    return this.statusCall('jobResume', 'waiting', options, cb);
  }

  /** Promotes a waiting job to ready now (`force`: even with unresolved dependencies). */
  ready(options?: ReadyOptions): Promise<boolean>;
  ready(cb: Cb<boolean>): void;
  ready(options: ReadyOptions, cb: Cb<boolean>): void;
  ready(options?: ReadyOptions | Cb<boolean>, cb?: Cb<boolean>): Promise<boolean> | void {
    return this.idCall('jobReady', { force: false }, options, cb);
  }

  /** Cancels the job (with meteor-job's default `antecedents: true`). */
  cancel(options?: CancelOptions): Promise<boolean>;
  cancel(cb: Cb<boolean>): void;
  cancel(options: CancelOptions, cb: Cb<boolean>): void;
  cancel(options?: CancelOptions | Cb<boolean>, cb?: Cb<boolean>): Promise<boolean> | void {
    return this.idCall('jobCancel', { antecedents: true }, options, cb);
  }

  /** Restarts a failed or cancelled job with one more retry (and its dependents). */
  restart(options?: RestartOptions): Promise<boolean>;
  restart(cb: Cb<boolean>): void;
  restart(options: RestartOptions, cb: Cb<boolean>): void;
  restart(options?: RestartOptions | Cb<boolean>, cb?: Cb<boolean>): Promise<boolean> | void {
    return this.idCall('jobRestart', { retries: 1, dependents: true }, options, cb);
  }

  /** Runs a completed job again as a new job; answers the new id, or false. */
  rerun(options?: RerunOptions): Promise<string | false>;
  rerun(cb: Cb<string | false>): void;
  rerun(options: RerunOptions, cb: Cb<string | false>): void;
  rerun(options?: RerunOptions | Cb<string | false>, cb?: Cb<string | false>): Promise<string | false> | void {
    const [given, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(() => {
      const id = this.savedId('rerun');
      return callJobMethod(this.handle, 'jobRerun', [id, { repeats: 0, wait: this.document.repeatWait, ...given }]);
    }), callback);
  }

  /** Removes a cancelled, completed or failed job. */
  remove(options?: NoOptions): Promise<boolean>;
  remove(cb: Cb<boolean>): void;
  remove(options: NoOptions, cb: Cb<boolean>): void;
  remove(options?: NoOptions | Cb<boolean>, cb?: Cb<boolean>): Promise<boolean> | void {
    return this.idCall('jobRemove', {}, options, cb);
  }

  // ---- statics ----

  /**
   * Uses `connection` for these roots (or, without roots, for every root without its own).
   * `connect()` already makes its connection the default.
   */
  static setDDP(connection: CumulusConnection, roots?: string | readonly string[]): void {
    useConnection(connection, roots);
  }

  static readonly getWork = reads.getWork;
  static readonly getJob = reads.getJob;
  static readonly getJobs = reads.getJobs;

  /** The old name of `new Job(root, doc)`. */
  static makeJob<D extends JobData = JobData>(root: JobRoot, doc: JobDocument<D> | JobDoc): Job<D> {
    return new Job<D>(root, doc);
  }

  /**
   * Saves many new jobs in one call (`jobSaveMany`, one server transaction per 1000 jobs),
   * setting each job's id. Answers the ids in order (null where a job was not saved).
   */
  static saveMany(root: JobRoot, jobs: readonly Job[], options?: SaveOptions): Promise<(string | null)[]>;
  static saveMany(root: JobRoot, jobs: readonly Job[], cb: Cb<(string | null)[]>): void;
  static saveMany(root: JobRoot, jobs: readonly Job[], options: SaveOptions, cb: Cb<(string | null)[]>): void;
  static saveMany(root: JobRoot, jobs: readonly Job[], options?: SaveOptions | Cb<(string | null)[]>, cb?: Cb<(string | null)[]>): Promise<(string | null)[]> | void {
    const [given, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(() => saveMany(root, jobs, given)), callback);
  }

  /**
   * Resolves with a job's result once it completes; rejects with `JobFailedError` (carrying the
   * status and the failures) once it has failed for good or was cancelled, with
   * `JobNotFoundError` if there is no such job, and with `WaitTimeoutError` after `timeoutMs`.
   * Reads the job's state first, then watches the `<root>.jobs` publication for it: no polling.
   */
  static waitFor<R extends JobResult = JobResult>(root: JobRoot, id: string, options?: WaitOptions): Promise<R>;
  static waitFor<R extends JobResult = JobResult>(root: JobRoot, id: string, cb: Cb<R>): void;
  static waitFor<R extends JobResult = JobResult>(root: JobRoot, id: string, options: WaitOptions, cb: Cb<R>): void;
  static waitFor<R extends JobResult = JobResult>(root: JobRoot, id: string, options?: WaitOptions | Cb<R>, cb?: Cb<R>): Promise<R> | void {
    const [given, callback] = optionsAndCallback(options, cb);
    return deliver(attempt(() => waitForJob<R>(root, id, given)), callback);
  }

  /**
   * Processes jobs of a type (or types) with `worker`, at most `concurrency` at a time. The
   * worker is either `(job, cb) => void` (meteor-job style: it calls `job.done()`/`job.fail()`
   * and then `cb()`) or `(job) => result | Promise<result>` (returning completes the job with
   * the result, throwing fails it). With `payload` > 1 it gets an array of jobs.
   */
  static processJobs<D extends JobData = JobData, P extends number = 1>(
    root: JobRoot,
    type: string | readonly string[],
    options: JobQueueOptions<P>,
    worker: JobWorker<WorkOf<D, P>>,
  ): JobQueue<D>;
  static processJobs<D extends JobData = JobData>(root: JobRoot, type: string | readonly string[], worker: JobWorker<Job<D>>): JobQueue<D>;
  static processJobs<D extends JobData, P extends number>(
    root: JobRoot,
    type: string | readonly string[],
    options: JobQueueOptions<P> | JobWorker<WorkOf<D, P>>,
    worker?: JobWorker<WorkOf<D, P>>,
  ): JobQueue<D> {
    if (typeof options === 'function') return new JobQueue<D>(root, type, {}, options);
    if (worker === undefined) throw new TypeError('processJobs needs a worker function');
    return new JobQueue<D>(root, type, options, worker);
  }

  // ---- helpers ----

  private savedId(action: string): string {
    const id = this.document._id;
    if (id === undefined) throw new Error(`Can't call .${action}() on an unsaved job`);
    return id;
  }

  private runRef(action: string): RunRef {
    const { _id: id, runId } = this.document;
    if (id === undefined || runId === null || runId === undefined) {
      throw new Error(`Can't call .${action}() on an unsaved or non-running job`);
    }
    return { root: this.handle, id, runId };
  }

  private idCall(
    method: 'jobReady' | 'jobCancel' | 'jobRestart' | 'jobRemove',
    defaults: Record<string, unknown>,
    options: object | Cb<boolean> | undefined,
    cb: Cb<boolean> | undefined,
  ): Promise<boolean> | void {
    const [given, callback] = optionsAndCallback<object, boolean>(options, cb);
    return deliver(attempt(() => callJobMethod(this.handle, method, [this.savedId(method), { ...defaults, ...given }] as never)), callback);
  }

  /** Pause and resume change an unsaved job's initial status instead of calling the server. */
  private statusCall(
    method: 'jobPause' | 'jobResume',
    unsavedStatus: 'paused' | 'waiting',
    options: object | Cb<boolean> | undefined,
    cb: Cb<boolean> | undefined,
  ): Promise<boolean> | void {
    const [given, callback] = optionsAndCallback<object, boolean>(options, cb);
    return deliver(attempt(async () => {
      if (this.document._id === undefined) {
        this.document.status = unsavedStatus;
        return true;
      }
      return callJobMethod(this.handle, method, [this.document._id, given] as never);
    }), callback);
  }
}
