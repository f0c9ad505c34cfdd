/**
 * `Job`: meteor-job's client API, typed. A job is built with a chainable builder and saved;
 * a worker reports on the run it was given (log, progress, done, fail); admins change jobs
 * one by one or in batches through the statics. Every call takes an optional node-style
 * callback last and answers a promise when it has none.
 *
 * Such calls are typed once each as a `WithCallback` (see `callback-style.ts`). A class body
 * cannot give a method a type, so the instance ones are `declare`d properties, defined on the
 * prototype by the static block after them (inside the class, for its `#private` members).
 */
import {
  forever, foreverDate, jobLogLevels, jobPriorities, jobRetryBackoffMethods, jobStatusCancellable, jobStatuses,
  jobStatusPausable, jobStatusRemovable, jobStatusRestartable, type JobPriorityName, type LogLevel,
} from '../shared/constants.ts';
import type { JobDoc } from '../shared/job-doc.ts';
import { jobMethodNames, permissionGroups } from '../shared/methods.ts';
import { randomId } from '../shared/random-id.ts';
import {
  callStyle, defineMethods, withCallbackAlone, type CallbackAlone, type GenericWithCallback, type ItselfAnswer, type WithCallback,
} from './callback-style.ts';
import { sendDone, sendFail, sendLog, sendProgress, type DoneOptions, type FailOptions, type RunRef } from './completion.ts';
import type { CumulusConnection } from './connection.ts';
import { useConnection } from './connection-registry.ts';
import * as admin from './job-admin.ts';
import { jobReads, type GetJobOptions } from './job-reads.ts';
import type { CancelOptions, NoOptions, ReadyOptions, RestartOptions } from './job-admin.ts';
import {
  asPayload, checkedAfter, checkedLogLevel, delayedAfter, newJobDocument, priorityValue, repeatFields, retryFields,
  type JobData, type JobDocument, type RepeatOptions, type RetryOptions,
} from './job-builder.ts';
import { callJobMethod, type OptionsOf } from './job-methods.ts';
import { JobQueue, type JobQueueOptions, type JobWorker, type WorkOf } from './job-queue.ts';
import { rootName, type JobRoot } from './job-root.ts';
import { markReported, runAccepted } from './run-state.ts';
import { untilAnswered } from './until-answered.ts';
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
  readonly #handle: JobRoot;
  #document: JobDocument<Data>;

  /** A new job of `type` carrying `data`, with meteor-job's defaults; build it, then `save()`. */
  constructor(root: JobRoot, type: string, data: Data);
  /** A job object for a document the server returned (getWork, getJob). */
  constructor(root: JobRoot, doc: JobDocument<Data> | JobDoc);
  constructor(root: JobRoot, typeOrDoc: string | JobDocument<Data> | JobDoc, data?: Data) {
    this.root = rootName(root);
    this.#handle = root;
    if (typeof typeOrDoc === 'string') {
      this.#document = newJobDocument(typeOrDoc, data as Data);
    } else if (typeof typeOrDoc === 'object' && typeOrDoc !== null && typeof typeOrDoc.type === 'string' && typeof typeOrDoc.data === 'object') {
      this.#document = typeOrDoc as JobDocument<Data>;
    } else {
      throw new TypeError('new Job(root, type, data) or new Job(root, doc): doc needs a type and data');
    }
  }

  /** The job document (live: builder calls and `refresh()` change it). */
  get doc(): JobDocument<Data> {
    return this.#document;
  }

  get type(): string {
    return this.#document.type;
  }

  get data(): Data {
    return this.#document.data;
  }

  /** The job's id, once saved. */
  get id(): string | undefined {
    return this.#document._id;
  }

  // ---- builder (chainable, before save) ----

  /** `low`, `normal`, `medium`, `high`, `critical`, or an integer; lower runs first. */
  priority(level: JobPriorityName | number = 0): this {
    this.#document.priority = priorityValue(level);
    return this;
  }

  /** `retry(n)`: n retries after the first attempt. Options: `{retries, wait, backoff, until}`. */
  retry(options: number | RetryOptions = 0): this {
    Object.assign(this.#document, retryFields(options));
    return this;
  }

  /** `repeat(n)`: n more runs after the first. Options: `{repeats, wait | schedule, until}`. */
  repeat(options: number | RepeatOptions = 0): this {
    Object.assign(this.#document, repeatFields(options));
    return this;
  }

  /** Not before `ms` milliseconds from now. */
  delay(ms = 0): this {
    this.#document.after = delayedAfter(ms);
    return this;
  }

  /** Not before `time`. */
  after(time?: Date): this {
    this.#document.after = checkedAfter(time);
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
    this.#document.depends = jobs ? [...this.#document.depends, ...ids] : [];
    this.#document.resolved = [];
    return this;
  }

  // ---- saving and reading ----

  /** Saves a new job (or re-saves a paused one); answers its id, or null when nothing was saved. */
  declare save: WithCallback<[], SaveOptions, string | null>;

  /** Reloads the document from the server; answers the job, or false when it is gone. */
  declare refresh: WithCallback<[], GetJobOptions, this | false>;

  /**
   * Resolves with the job's result once it completes; rejects with `JobFailedError` once it has
   * failed for good or was cancelled. Watches the job live; see {@link Job.waitFor}.
   */
  declare result: GenericWithCallback<[], WaitOptions, ItselfAnswer, JobResult>;

  static {
    defineMethods(this.prototype, {
      save: callStyle(0, async function (this: Job, given) {
        const handle = this.#handle;
        const document = this.#document;
        // A re-save is safe to repeat; a new job gets its id here, so a save repeated after a lost
        // answer finds the first instead of saving the job twice (docs/PROTOCOL.md §7.10).
        const newId = randomId();
        const id = document._id !== undefined
          ? await callJobMethod(handle, 'jobSave', [document as never, given])
          : await untilAnswered(handle, () => callJobMethod(handle, 'jobSave', [document as never, { ...given, id: newId }]));
        if (id) document._id = id;
        return id;
      }),
      refresh: callStyle(0, async function (this: Job, given) {
        const id = this.#savedId('refresh');
        const doc = await callJobMethod(this.#handle, 'getJob', [id, { getLog: false, ...given }]);
        if (doc === null || Array.isArray(doc)) return false;
        this.#document = doc as JobDocument;
        return this;
      }),
      result: callStyle(0, function (this: Job, given) {
        return waitForJob(this.#handle, this.#savedId('result'), given);
      }),
    });
  }

  // ---- reporting on a run (the worker's side) ----

  /**
   * Adds a log entry (to the document until the job is saved). Answers true when written.
   * Retried after a reconnect.
   */
  declare log: WithCallback<[message: string], LogOptions, boolean>;

  /**
   * Reports progress of the current run. Answers false when the run is no longer current, and
   * null when the job server is shutting down (time to stop). Retried after a reconnect.
   */
  declare progress: WithCallback<[completed?: number, total?: number], ProgressOptions, boolean | null>;

  /**
   * Completes the current run with `result` (a non-object becomes `{value: result}`). Answers
   * true, the repeat's id (with `repeatId`), or false when the run is no longer current.
   * Retried after a reconnect; a retry finds out whether the first attempt had landed.
   */
  declare done: CallbackAlone<boolean | string> & WithCallback<[result?: unknown], DoneOptions, boolean | string>;

  /**
   * Fails the current run with `error` (an Error becomes `{value: message, name, stack}`, another
   * non-object `{value: error}`). The server retries the job if it has retries left and the
   * failure is not `fatal`. Retried after a reconnect, like `done`.
   */
  declare fail: CallbackAlone<boolean> & WithCallback<[error?: unknown], FailOptions, boolean>;

  static {
    defineMethods(this.prototype, {
      log: callStyle(1, async function (this: Job, message, given) {
        if (typeof message !== 'string') throw new TypeError('Log message must be a string');
        const level = checkedLogLevel(given.level);
        const entry = { level, ...(given.data === undefined ? {} : { data: given.data }) };
        if (this.#document._id === undefined) {
          (this.#document.log ??= []).push({ time: new Date(), runId: null, message, ...entry });
          return true;
        }
        return sendLog(this.#handle, this.#document._id, this.#document.runId, message, entry);
      }),
      // The options are checked, and otherwise ignored.
      progress: callStyle(2, async function (this: Job, completed = 0, total = 1) {
        if (!(typeof completed === 'number' && typeof total === 'number' && completed >= 0 && total > 0 && total >= completed)) {
          throw new RangeError(`job.progress: ${completed} out of ${total} is not a valid progress`);
        }
        const progress = { completed, total, percent: (100 * completed) / total };
        if (this.#document._id === undefined) {
          this.#document.progress = progress;
          return true;
        }
        const answer = await sendProgress(this.#runRef('progress'), completed, total);
        if (answer) this.#document.progress = progress;
        return answer;
      }),
      done: withCallbackAlone(callStyle<WithCallback<[result?: unknown], DoneOptions, boolean | string>>(1, async function (this: Job, result, given) {
        const run = this.#runRef('done');
        markReported(this);
        const { done } = await sendDone(run, asPayload(result, {}), given);
        if (done !== false) runAccepted(this, { ok: true, result });
        return done;
      })),
      fail: withCallbackAlone(callStyle<WithCallback<[error?: unknown], FailOptions, boolean>>(1, async function (this: Job, error, given) {
        const run = this.#runRef('fail');
        markReported(this);
        const failed = await sendFail(run, asPayload(error, 'No error information provided'), { fatal: false, ...given });
        if (failed) runAccepted(this, { ok: false, error });
        return failed;
      })),
    });
  }

  // ---- changing one job (the admin's side) ----

  /** Pauses a ready or waiting job (an unsaved job is then saved paused). */
  declare pause: WithCallback<[], NoOptions, boolean>;

  /** Resumes a paused job (an unsaved job is then saved waiting). */
  declare resume: WithCallback<[], NoOptions, boolean>;

  /** Promotes a waiting job to ready now (`force`: even with unresolved dependencies). */
  declare ready: WithCallback<[], ReadyOptions, boolean>;

  /** Cancels the job (with meteor-job's default `antecedents: true`). */
  declare cancel: WithCallback<[], CancelOptions, boolean>;

  /** Restarts a failed or cancelled job with one more retry (and its dependents). */
  declare restart: WithCallback<[], RestartOptions, boolean>;

  /** Runs a completed job again as a new job; answers the new id, or false. */
  declare rerun: WithCallback<[], RerunOptions, string | false>;

  /** Removes a cancelled, completed or failed job. */
  declare remove: WithCallback<[], NoOptions, boolean>;

  static {
    defineMethods(this.prototype, {
      pause: callStyle(0, function (this: Job, given) {
        return this.#statusCall('jobPause', 'paused', given);
      }),
      resume: callStyle(0, function (this: Job, given) {
        return this.#statusCall('jobResume', 'waiting', given);
      }),
      ready: callStyle(0, function (this: Job, given) {
        return this.#idCall('jobReady', { force: false }, given);
      }),
      cancel: callStyle(0, function (this: Job, given) {
        return this.#idCall('jobCancel', { antecedents: true }, given);
      }),
      restart: callStyle(0, function (this: Job, given) {
        return this.#idCall('jobRestart', { retries: 1, dependents: true }, given);
      }),
      rerun: callStyle(0, function (this: Job, given) {
        const id = this.#savedId('rerun');
        return callJobMethod(this.#handle, 'jobRerun', [id, { repeats: 0, wait: this.#document.repeatWait, ...given }]);
      }),
      remove: callStyle(0, function (this: Job, given) {
        return this.#idCall('jobRemove', {}, given);
      }),
    });
  }

  // ---- statics ----

  /**
   * Uses `connection` for these roots (or, without roots, for every root without its own).
   * `connect()` already makes its connection the default.
   */
  static setDDP(connection: CumulusConnection, roots?: string | readonly string[]): void {
    useConnection(connection, roots);
  }

  /** The old name of `new Job(root, doc)`. */
  static makeJob<D extends JobData = JobData>(root: JobRoot, doc: JobDocument<D> | JobDoc): Job<D> {
    return new Job<D>(root, doc);
  }

  static readonly #reads = jobReads(Job.makeJob);

  /**
   * Claims ready jobs of a type (or types): one job or undefined, or with `maxJobs` an array.
   * Workers normally use {@link Job.processJobs} instead.
   */
  static readonly getWork = Job.#reads.getWork;

  /** One job by id (`getLog`, `getFailures` to include those), or undefined. */
  static readonly getJob = Job.#reads.getJob;

  /**
   * Many jobs by id, 32 per call as meteor-job asks. Missing ids are skipped (meteor-job added
   * a null per empty chunk and rebuilt each job from type and data only, losing its state).
   */
  static readonly getJobs = Job.#reads.getJobs;

  /**
   * Saves many new jobs in one call (`jobSaveMany`, one server transaction per 1000 jobs),
   * setting each job's id. Answers the ids in order (null where a job was not saved).
   */
  static readonly saveMany: WithCallback<[root: JobRoot, jobs: readonly Job[]], SaveOptions, (string | null)[]> = callStyle(
    2,
    (root, jobs, given) => saveMany(root, jobs, given),
  );

  /**
   * Resolves with a job's result once it completes; rejects with `JobFailedError` (carrying the
   * status and the failures) once it has failed for good or was cancelled, with
   * `JobNotFoundError` if there is no such job, and with `WaitTimeoutError` after `timeoutMs`.
   * Reads the job's state first, then watches the `<root>.jobs` publication for it: no polling.
   */
  static readonly waitFor: GenericWithCallback<[root: JobRoot, id: string], WaitOptions, ItselfAnswer, JobResult> = callStyle(
    2,
    (root, id, given) => waitForJob(root, id, given),
  );

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
    if (typeof options === 'function') return new JobQueue<D>(root, type, {}, options, Job.makeJob);
    if (worker === undefined) throw new TypeError('processJobs needs a worker function');
    return new JobQueue<D>(root, type, options, worker, Job.makeJob);
  }

  // ---- helpers ----

  #savedId(action: string): string {
    const id = this.#document._id;
    if (id === undefined) throw new Error(`Can't call .${action}() on an unsaved job`);
    return id;
  }

  #runRef(action: string): RunRef {
    const { _id: id, runId } = this.#document;
    if (id === undefined || runId === null || runId === undefined) {
      throw new Error(`Can't call .${action}() on an unsaved or non-running job`);
    }
    return { root: this.#handle, id, runId };
  }

  #idCall(method: 'jobReady' | 'jobCancel' | 'jobRestart' | 'jobRemove', defaults: Record<string, unknown>, given: object): Promise<boolean> {
    return callJobMethod(this.#handle, method, [this.#savedId(method), { ...defaults, ...given }] as never);
  }

  /** Pause and resume change an unsaved job's initial status instead of calling the server. */
  async #statusCall(method: 'jobPause' | 'jobResume', unsavedStatus: 'paused' | 'waiting', given: object): Promise<boolean> {
    if (this.#document._id === undefined) {
      this.#document.status = unsavedStatus;
      return true;
    }
    return callJobMethod(this.#handle, method, [this.#document._id, given] as never);
  }
}
