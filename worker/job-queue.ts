/**
 * `JobQueue`: runs a worker over the jobs of one or more types, never more than `concurrency`
 * calls at a time, with meteor-job's options, methods and shutdown levels, and a core in the
 * spirit of p-queue (a local queue, a set of running tasks, `onIdle()`, `onEmpty()`,
 * `onSizeLessThan()`, and typed events).
 *
 * Work arrives without polling: the queue keeps one `getWork` with `waitMs` outstanding while it
 * has room, which the server answers as soon as a job is ready; and a finished job claims the
 * next in the same round trip (`jobDone` with `next`). `pollInterval` is only a backstop. After
 * a reconnect the queue tells the server which runs it still holds (`reclaimRuns`) and forgets
 * those the server no longer has running.
 *
 * Nothing the queue does in the background can become an unhandled rejection: its errors, and
 * those of user callbacks it calls, go to `errorCallback` and the `error` listeners, and what
 * `errorCallback` throws to a process warning.
 */
import type { JobDoc } from '../shared/job-doc.ts';
import { cumulusLimits } from '../shared/methods.ts';
import { callStyle, defineMethods, type WithCallback } from './callback-style.ts';
import { sendDone, sendDoneMany, type NextWork } from './completion.ts';
import { warn } from './connection-options.ts';
import type { CumulusConnection } from './connection.ts';
import { DisconnectedError } from './errors.ts';
import { chunks } from './job-admin.ts';
import { asPayload, type JobData } from './job-builder.ts';
import type { JobFactory } from './job-factory.ts';
import { callJobMethod } from './job-methods.ts';
import { connectionOf, rootName, type JobRoot } from './job-root.ts';
import type { Job } from './job.ts';
import { QueueEvents, type JobQueueEvents } from './queue-events.ts';
import {
  checkedTypes, queueSettings, type CallbackWorker, type JobQueueOptions, type JobWorker, type PromiseWorker,
  type QueueSettings,
} from './queue-options.ts';
import { isReported, markReported, observeRun, runAccepted, type RunOutcome } from './run-state.ts';

export type { CallbackWorker, JobQueueOptions, JobWorker, PromiseWorker, WorkOf, WorkerCallback } from './queue-options.ts';
export type { JobQueueEvents } from './queue-events.ts';

/**
 * How a queue stops (meteor-job's levels): `soft` finishes queued and running jobs; `normal`
 * fails the queued ones (`{value: 'Worker shutdown'}`, so they are retried if they have retries
 * left) and waits for the running ones; `hard` fails the running ones too.
 */
export type ShutdownLevel = 'soft' | 'normal' | 'hard';

export interface ShutdownOptions {
  level?: ShutdownLevel;
  /** Accepted for meteor-job compatibility: the library never prints anyway. */
  quiet?: boolean;
}

type Work<D extends JobData> = Job<D> | Job<D>[];

interface Task<D extends JobData> {
  jobs: Job<D>[];
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A promise of `onIdle()`, `onEmpty()` or `onSizeLessThan()`, resolved once `until` holds. */
interface Waiter {
  until(): boolean;
  resolve(): void;
}

const shutdownRank: Record<ShutdownLevel, number> = { soft: 0, normal: 1, hard: 2 };
const shutdownError = 'Worker shutdown';

/** The run a queued job is in: every job the queue runs was claimed, so it has both. */
function runOf<D extends JobData>(job: Job<D>): { id: string; runId: string } {
  const { _id: id, runId } = job.doc;
  if (id === undefined || runId === null) throw new Error('A queued job has no id or runId');
  return { id, runId };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The machine's load as reported to the server: not negative, two decimals (a report, not a measurement). */
function roundedLoad(machineLoad: () => number): number {
  const load = machineLoad();
  return Number.isFinite(load) && load > 0 ? Math.round(load * 100) / 100 : 0;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Runs a worker over the jobs of some types; made by {@link Job.processJobs}. Tells what it does
 * through typed events, e.g. `queue.on('completed', (job, result) => …)`: see {@link JobQueueEvents}.
 */
export class JobQueue<D extends JobData = JobData> {
  /** The collection root's name. */
  readonly root: string;
  readonly types: readonly string[];
  readonly #handle: JobRoot;
  readonly #connection: CumulusConnection;
  readonly #settings: QueueSettings;
  /** One job or an array, by `payload`; the static type was checked by `Job.processJobs`. */
  readonly #worker: JobWorker<Work<D>>;
  readonly #toJob: JobFactory;
  readonly #events = new QueueEvents<D>();
  #queued: Job<D>[] = [];
  readonly #tasks = new Set<Task<D>>();
  /** Running tasks whose worker waits on other jobs (see `lendWhile`), each with how many waits. */
  readonly #lent = new Map<Task<D>, number>();
  /** A getWork, or a jobDone claiming the next jobs, is in flight: never two at once. */
  #fetching = false;
  #paused = true;
  /** Whether the listeners were told of the current idle spell (a new queue is idle untold). */
  #idleTold = true;
  #pollTimer: NodeJS.Timeout | undefined;
  /** Runs the server no longer has running (found after a reconnect): never reported. */
  readonly #lost = new WeakSet<Job<D>>();
  readonly #shutdownFails = new Set<Promise<unknown>>();
  #stopping: ShutdownLevel | undefined;
  #shutdownPromise: Promise<void> | undefined;
  #shutdownDone: (() => void) | undefined;
  readonly #waiters = new Set<Waiter>();
  readonly #stopListening: () => void;

  /**
   * Prefer {@link Job.processJobs}, which types the worker by `payload` (here it is unchecked)
   * and passes `Job.makeJob` as `toJob`, which makes the job objects of the claimed documents.
   */
  constructor(root: JobRoot, type: string | readonly string[], options: JobQueueOptions, worker: JobWorker<never>, toJob: JobFactory) {
    this.root = rootName(root);
    this.#connection = connectionOf(root);
    // Every call about the queue's jobs goes over the connection that claimed them, whatever
    // becomes the default connection later.
    this.#handle = { root: this.root, connection: this.#connection };
    this.types = checkedTypes(type);
    this.#settings = queueSettings(options);
    if (typeof worker !== 'function') throw new TypeError('JobQueue: the worker must be a function');
    if (typeof toJob !== 'function') throw new TypeError('JobQueue: toJob must be a function (Job.makeJob)');
    this.#worker = worker as JobWorker<Work<D>>;
    this.#toJob = toJob;
    this.#stopListening = this.#connection.onReconnect(() => this.#background(this.#resync()));
    this.resume();
    // A connection not up yet (created without connect()) has no reconnect to wait for.
    this.#background(this.#connection.whenReady().then(() => this.#fetch(), () => undefined));
  }

  /** Jobs held locally, not started yet. */
  length(): number {
    return this.#queued.length;
  }

  /** Worker calls in flight. */
  running(): number {
    return this.#tasks.size;
  }

  /** Nothing queued and nothing running. */
  idle(): boolean {
    return this.#queued.length + this.#tasks.size === 0;
  }

  /** As many worker calls in flight as `concurrency` allows (not counting those lending their slot). */
  full(): boolean {
    return this.#busy() >= this.#settings.concurrency;
  }

  /**
   * Lends the slot of the task running `job` while `waiting` is pending: the queue may start
   * another job meanwhile — only a child of a waiting job (`getWork {parents}`) — so a worker
   * that awaits jobs it submitted (jobs calling jobs) never deadlocks its own queue, even at
   * concurrency 1 when it handles the child's type too, and a soft shutdown still ends. When
   * `waiting` settles the task takes its slot back at once: the queue may then run one job more
   * than `concurrency` until one ends, and takes no new work until it is under again.
   */
  lendWhile<T>(job: Job<D>, waiting: Promise<T>): Promise<T> {
    const task = [...this.#tasks].find((candidate) => candidate.jobs.includes(job));
    if (task === undefined) return waiting;
    this.#lent.set(task, (this.#lent.get(task) ?? 0) + 1);
    this.#process();
    this.#fetch();
    const giveBack = (): void => {
      const count = (this.#lent.get(task) ?? 1) - 1;
      if (count > 0) this.#lent.set(task, count);
      else this.#lent.delete(task);
    };
    return waiting.finally(giveBack);
  }

  /** Whether `pause()` (or a shutdown) stopped it. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Resolves when nothing is queued or running (at once if so now). */
  onIdle(): Promise<void> {
    return this.#when(() => this.idle());
  }

  /** Resolves when nothing is queued locally (at once if so now); running jobs may go on. */
  onEmpty(): Promise<void> {
    return this.#when(() => this.#queued.length === 0);
  }

  /** Resolves when fewer than `limit` jobs are queued locally (at once if so now). */
  onSizeLessThan(limit: number): Promise<void> {
    return this.#when(() => this.#queued.length < limit);
  }

  /** Calls `listener` at every `event`; see {@link JobQueueEvents}. */
  on<E extends keyof JobQueueEvents<D>>(event: E, listener: JobQueueEvents<D>[E]): this {
    this.#events.on(event, listener);
    return this;
  }

  /** Calls `listener` at the next `event` only. */
  once<E extends keyof JobQueueEvents<D>>(event: E, listener: JobQueueEvents<D>[E]): this {
    this.#events.once(event, listener);
    return this;
  }

  /** Removes a listener added with `on` or `once`. */
  off<E extends keyof JobQueueEvents<D>>(event: E, listener: JobQueueEvents<D>[E]): this {
    this.#events.off(event, listener);
    return this;
  }

  /**
   * Stops asking for work and starting jobs; running jobs go on. A request for work already
   * waiting on the server may still bring jobs: they are held, not started, until `resume()`.
   */
  pause(): this {
    if (this.#paused) return this;
    this.#paused = true;
    this.#stopPolling();
    this.#emit('paused');
    return this;
  }

  /** Asks for work and starts jobs again (a queue starts resumed). Not after a shutdown. */
  resume(): this {
    if (!this.#paused || this.#stopping !== undefined) return this;
    this.#paused = false;
    if (this.#settings.pollInterval > 0) {
      this.#pollTimer = setInterval(() => this.#fetch(), this.#settings.pollInterval);
      // The backstop alone must not keep a process alive whose connection was closed.
      this.#pollTimer.unref();
    }
    this.#emit('resumed');
    this.#fetch();
    this.#process();
    return this;
  }

  /** Asks for work now (e.g. when a producer in the same process just saved a job). */
  trigger(): this {
    if (!this.#paused) this.#fetch();
    return this;
  }

  /**
   * Stops the queue at a level (default `normal`, see {@link ShutdownLevel}); resolves, or calls
   * back, once done. Never asks for work again. Calling it again with a harder level escalates.
   *
   * A request for work still waiting on the server is not waited for (that could take `waitMs`):
   * close the connection afterwards and the server answers it with nothing. Jobs it brings back
   * while the connection stays open are failed like queued ones.
   */
  declare shutdown: WithCallback<[], ShutdownOptions, void>;

  static {
    defineMethods(this.prototype, {
      shutdown: callStyle(0, function (this: JobQueue, given) {
        return this.#stop(given.level ?? 'normal');
      }),
    });
  }

  // ---- fetching ----

  /** Running tasks that hold their slot. */
  #busy(): number {
    return this.#tasks.size - this.#lent.size;
  }

  /**
   * The jobs waiting on work they submitted, whose slots are lent: while there are any, the
   * queue claims only their children (and theirs), so exclusive mode stays one job at a time
   * plus the jobs it waits for, and top-level work never takes a lent slot. Undefined when none.
   */
  #lentJobIds(): string[] | undefined {
    if (this.#lent.size === 0) return undefined;
    return [...this.#lent.keys()].flatMap((task) => task.jobs.map((job) => job.id).filter((id) => id !== undefined));
  }

  /** How many jobs the queue can take now: meteor-job's formula. */
  #room(running = this.#busy()): number {
    const { prefetch, payload, concurrency } = this.#settings;
    return prefetch + payload * (concurrency - running) - this.#queued.length;
  }

  #fetch(): void {
    if (this.#fetching || !this.#connection.connected) return;
    // A soft shutdown still serves the children its waiting jobs need, or it would never end.
    const serving = this.#stopping === undefined ? !this.#paused : this.#stopping === 'soft' && this.#lent.size > 0;
    if (!serving) return;
    const maxJobs = this.#room();
    if (maxJobs <= 0) return;
    const { workTimeout, waitMs, concurrency, workerName, machineLoad } = this.#settings;
    const parents = this.#lentJobIds();
    const options = {
      maxJobs,
      ...(workTimeout === undefined ? {} : { workTimeout }),
      ...(waitMs > 0 ? { waitMs } : {}),
      // For least-loaded routing, and for the job's record of who ran it.
      worker: { name: workerName, concurrency, cpuLoad: roundedLoad(machineLoad) },
      ...(parents === undefined ? {} : { parents }),
    };
    this.#fetching = true;
    const started = Date.now();
    const answered = callJobMethod(this.#handle, 'getWork', [this.types as string[], options]).then(
      (docs) => {
        this.#fetching = false;
        if (!Array.isArray(docs)) {
          this.#report(new Error('Nonarray response from server from getWork()'));
          return;
        }
        if (docs.length > maxJobs) this.#report(new Error(`getWork() returned jobs (${docs.length}) in excess of maxJobs (${maxJobs})`));
        this.#accept(docs);
        // Ask again at once when work came, or when the server held the request until its time
        // was up; an instant empty answer (a server that does not wait, or one shut down) waits
        // for the next event or poll.
        if (docs.length > 0 || (waitMs > 0 && Date.now() - started >= waitMs / 2)) this.#fetch();
      },
      (error: unknown) => {
        this.#fetching = false;
        // A dropped connection is no error of the queue's: it resumes after the reconnect.
        if (!(error instanceof DisconnectedError)) this.#report(new Error(`Received error from getWork(): ${String(error)}`));
      },
    );
    this.#background(answered);
  }

  /**
   * Queues claimed jobs. Jobs a request still under way brings after shutdown began are run
   * while a soft shutdown is in progress, and otherwise given back unstarted (`#giveBack`).
   * A document no job can be made of is reported and skipped.
   */
  #accept(docs: readonly JobDoc[]): void {
    const jobs: Job<D>[] = [];
    for (const doc of docs) {
      try {
        const job = this.#toJob(this.#handle, doc) as Job<D>;
        observeRun(job, (outcome) => this.#settled(job, outcome));
        jobs.push(job);
      } catch (error) {
        this.#report(new Error(`Received a malformed job from the server (${String((doc as { _id?: unknown } | null)?._id)}): ${asError(error).message}`));
      }
    }
    if (jobs.length === 0) return;
    const softInProgress = this.#stopping === 'soft' && this.#shutdownDone !== undefined;
    if (this.#stopping !== undefined && !softInProgress) {
      this.#giveBack(jobs);
      return;
    }
    this.#queued.push(...jobs);
    this.#process();
  }

  #stopPolling(): void {
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  // ---- running ----

  #process(): void {
    const { concurrency, payload } = this.#settings;
    const starting = this.#stopping === 'soft' || (!this.#paused && this.#stopping === undefined);
    while (starting && this.#busy() < concurrency && this.#queued.length > 0) {
      const task: Task<D> = { jobs: this.#queued.splice(0, payload) };
      this.#tasks.add(task);
      // Outside this loop, so that a worker that calls back at once cannot nest starts.
      queueMicrotask(() => this.#run(task));
    }
    this.#changed();
  }

  #run(task: Task<D>): void {
    this.#emit('active', task.jobs);
    const work = (this.#settings.payload > 1 ? task.jobs : task.jobs[0]) as Work<D>;
    if (this.#worker.length >= 2) this.#runWithCallback(task, work, this.#worker as CallbackWorker<Work<D>>);
    else this.#background(this.#runPromise(task, work, this.#worker as PromiseWorker<Work<D>>));
  }

  #runWithCallback(task: Task<D>, work: Work<D>, worker: CallbackWorker<Work<D>>): void {
    let called = false;
    const cb = (): void => {
      if (called) {
        this.#report(new Error('Worker callback called multiple times'));
        if (this.#settings.callbackStrict) throw new Error('JobQueue: worker callback was invoked multiple times');
        return;
      }
      called = true;
      this.#finish(task);
    };
    try {
      const returned: unknown = worker(work, cb);
      if (isThenable(returned)) returned.then(undefined, (error: unknown) => this.#report(error));
    } catch (error) {
      // A worker that throws before calling back would hold its slot forever.
      this.#report(error);
      if (!called) this.#background(this.#complete(task, { ok: false, error }).then(() => this.#finish(task)));
    }
  }

  async #runPromise(task: Task<D>, work: Work<D>, worker: PromiseWorker<Work<D>>): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = { ok: true, value: await worker(work) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await this.#complete(task, outcome);
    this.#finish(task);
  }

  /** Reports the task's jobs the worker left unreported; the last done may claim the next jobs. */
  async #complete(task: Task<D>, outcome: Outcome): Promise<void> {
    const open = task.jobs.filter((job) => !isReported(job) && !this.#lost.has(job));
    if (open.length === 0) return;
    try {
      if (!outcome.ok) {
        await Promise.all(open.map((job) => job.fail(outcome.error)));
        return;
      }
      if (open.length === 1) {
        await this.#doneAndClaim(open[0] as Job<D>, outcome.value);
        return;
      }
      // A batch's jobs are reported in one call (jobDoneMany), the last call claiming the next.
      const batches = chunks(open, cumulusLimits.maxBatch);
      for (const [index, batch] of batches.entries()) await this.#doneManyAndClaim(batch, outcome.value, index === batches.length - 1);
    } catch (error) {
      this.#report(error);
    }
  }

  async #doneAndClaim(job: Job<D>, value: unknown): Promise<void> {
    const next = this.#nextWork();
    if (next === undefined) {
      await job.done(value);
      return;
    }
    markReported(job);
    this.#fetching = true;
    let answer;
    try {
      answer = await sendDone({ root: this.#handle, ...runOf(job) }, asPayload(value, {}), {}, next);
    } finally {
      this.#fetching = false;
    }
    if (answer.done !== false) runAccepted(job, { ok: true, result: value });
    this.#accept(answer.jobs);
  }

  /** Reports a batch's jobs done in one call, claiming the next jobs with it when `claim` allows. */
  async #doneManyAndClaim(jobs: readonly Job<D>[], value: unknown, claim: boolean): Promise<void> {
    const next = claim ? this.#nextWork() : undefined;
    const runs = jobs.map(runOf);
    for (const job of jobs) markReported(job);
    if (next !== undefined) this.#fetching = true;
    let answer;
    try {
      answer = await sendDoneMany(this.#handle, runs, asPayload(value, {}), next);
    } finally {
      if (next !== undefined) this.#fetching = false;
    }
    jobs.forEach((job, index) => {
      if (answer.done[index] === true) runAccepted(job, { ok: true, result: value });
    });
    this.#accept(answer.jobs);
  }

  /** What a report may claim with it (`next`): undefined when it must not claim now. */
  #nextWork(): NextWork | undefined {
    const room = this.#room(this.#busy() - 1);
    const claim = this.#settings.claimNext && !this.#fetching && !this.#paused && this.#stopping === undefined && this.#connection.connected && room > 0;
    if (!claim) return undefined;
    const { workTimeout } = this.#settings;
    const parents = this.#lentJobIds();
    return { type: [...this.types], maxJobs: room, ...(workTimeout === undefined ? {} : { workTimeout }), ...(parents === undefined ? {} : { parents }) };
  }

  #finish(task: Task<D>): void {
    if (!this.#tasks.delete(task)) return;
    this.#lent.delete(task);
    this.#process();
    this.#fetch();
    this.#checkShutdown();
  }

  /** A report on one of the queue's jobs was accepted: tell the listeners. */
  #settled(job: Job<D>, outcome: RunOutcome): void {
    if (outcome.ok) this.#emit('completed', job, outcome.result);
    else this.#emit('failed', job, outcome.error);
  }

  // ---- waiting and telling ----

  #when(until: () => boolean): Promise<void> {
    if (until()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.add({ until, resolve }));
  }

  /** After jobs were queued, started or finished: tells the `idle` listeners and the waiters due. */
  #changed(): void {
    if (!this.idle()) this.#idleTold = false;
    else if (!this.#idleTold) {
      this.#idleTold = true;
      this.#emit('idle');
    }
    for (const waiter of this.#waiters) {
      if (!waiter.until()) continue;
      this.#waiters.delete(waiter);
      waiter.resolve();
    }
  }

  #emit<E extends keyof JobQueueEvents<D>>(event: E, ...args: Parameters<JobQueueEvents<D>[E]>): void {
    this.#events.emit(event, (error) => this.#report(error), ...args);
  }

  /** Gives an error to `errorCallback` and the `error` listeners. Never throws. */
  #report(error: unknown): void {
    const reported = asError(error);
    const heard = this.#events.listens('error');
    // A throwing `error` listener is not reported again: that could go round for ever.
    this.#events.emit('error', warn, reported);
    const { errorCallback } = this.#settings;
    if (errorCallback === undefined) {
      if (!heard) warn(reported);
      return;
    }
    try {
      errorCallback(reported);
    } catch (thrown) {
      warn(new Error(`JobQueue: errorCallback threw (${String(thrown)}) on: ${reported.message}`, { cause: reported }));
    }
  }

  /** Runs `promise` in the background: whatever it rejects with is reported. */
  #background(promise: Promise<unknown>): void {
    promise.catch((error: unknown) => this.#report(error));
  }

  // ---- reconnect ----

  /** After a reconnect: keep the runs the server still has running for us, drop the others. */
  async #resync(): Promise<void> {
    const held = [...this.#queued, ...[...this.#tasks].flatMap((task) => task.jobs)].filter((job) => !isReported(job) && !this.#lost.has(job));
    try {
      const alive = new Set<string>();
      for (const part of chunks(held, cumulusLimits.maxBatch)) {
        const runs = part.map((job) => ({ id: job.doc._id as string, runId: job.doc.runId as string }));
        for (const id of await callJobMethod(this.#handle, 'reclaimRuns', [runs])) alive.add(id);
      }
      for (const job of held) if (!alive.has(job.doc._id as string)) this.#lost.add(job);
      this.#queued = this.#queued.filter((job) => !this.#lost.has(job));
    } catch (error) {
      // Dropped again: the next reconnect tries again. Anything else: keep every run.
      if (error instanceof DisconnectedError) return;
      this.#report(new Error(`Could not reclaim running jobs after a reconnect: ${String(error)}`));
    }
    this.#process();
    this.#fetch();
  }

  // ---- shutdown ----

  #stop(level: ShutdownLevel): Promise<void> {
    if (this.#stopping !== undefined && shutdownRank[level] <= shutdownRank[this.#stopping]) {
      return this.#shutdownPromise as Promise<void>;
    }
    const wasPaused = this.#paused;
    this.#stopping = level;
    this.#paused = true;
    this.#stopPolling();
    if (!wasPaused) this.#emit('paused');
    if (level !== 'soft') this.#failAtShutdown(this.#queued.splice(0));
    if (level === 'hard') this.#failAtShutdown([...this.#tasks].flatMap((task) => task.jobs));
    this.#shutdownPromise ??= new Promise<void>((resolve) => {
      this.#shutdownDone = resolve;
    });
    // Soft: the queued jobs still start, even if the queue was paused.
    this.#process();
    this.#checkShutdown();
    return this.#shutdownPromise;
  }

  /**
   * Jobs claimed for the queue after its shutdown began (a waiting getWork answered late) were
   * never started: they go back to the server at once with `releaseRuns`, their attempt given
   * back, instead of being failed (a retry much later, or a final failure). A server without
   * `releaseRuns` gets them failed, as upstream's queues do.
   */
  #giveBack(jobs: readonly Job<D>[]): void {
    const released = callJobMethod(this.#handle, 'releaseRuns', [jobs.map(runOf)]).then(
      () => {
        for (const job of jobs) markReported(job);
      },
      () => this.#failAtShutdown(jobs),
    );
    this.#background(released);
  }

  #failAtShutdown(jobs: readonly Job<D>[]): void {
    for (const job of jobs) {
      if (isReported(job) || this.#lost.has(job)) continue;
      const failing = job.fail(shutdownError).catch((error: unknown) => this.#report(error));
      this.#shutdownFails.add(failing);
      this.#background(failing.then(() => {
        this.#shutdownFails.delete(failing);
        this.#checkShutdown();
      }));
    }
  }

  #checkShutdown(): void {
    if (this.#stopping === undefined || this.#shutdownDone === undefined || this.#shutdownFails.size > 0) return;
    // A hard shutdown does not wait for the workers it failed the jobs of.
    if (this.#stopping !== 'hard' && !this.idle()) return;
    const done = this.#shutdownDone;
    this.#shutdownDone = undefined;
    this.#stopListening();
    done();
  }
}
