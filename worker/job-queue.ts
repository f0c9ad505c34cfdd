/**
 * `JobQueue`: runs a worker over the jobs of one or more types, never more than `concurrency`
 * calls at a time, with meteor-job's options, methods and shutdown levels, and a core in the
 * spirit of p-queue (a local queue, a set of running tasks, `onIdle()`).
 *
 * Work arrives without polling: the queue keeps one `getWork` with `waitMs` outstanding while it
 * has room, which the server answers as soon as a job is ready; and a finished job claims the
 * next in the same round trip (`jobDone` with `next`). `pollInterval` is only a backstop. After
 * a reconnect the queue tells the server which runs it still holds (`reclaimRuns`) and forgets
 * those the server no longer has running.
 */
import type { JobDoc } from '../shared/job-doc.ts';
import { cumulusLimits } from '../shared/methods.ts';
import { attempt, deliver, type NodeCallback } from './callback-style.ts';
import { sendDone } from './completion.ts';
import type { CumulusConnection } from './connection.ts';
import { DisconnectedError } from './errors.ts';
import { chunks } from './job-admin.ts';
import { asPayload, type JobData } from './job-builder.ts';
import { callJobMethod } from './job-methods.ts';
import { connectionOf, rootName, type JobRoot } from './job-root.ts';
import { Job } from './job.ts';
import {
  checkedTypes, queueSettings, type CallbackWorker, type JobQueueOptions, type JobWorker, type PromiseWorker,
  type QueueSettings,
} from './queue-options.ts';
import { isReported, markReported } from './run-state.ts';

export type { CallbackWorker, JobQueueOptions, JobWorker, PromiseWorker, WorkOf, WorkerCallback } from './queue-options.ts';

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

const shutdownRank: Record<ShutdownLevel, number> = { soft: 0, normal: 1, hard: 2 };
const shutdownError = 'Worker shutdown';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export class JobQueue<D extends JobData = JobData> {
  /** The collection root's name. */
  readonly root: string;
  readonly types: readonly string[];
  private readonly handle: JobRoot;
  private readonly connection: CumulusConnection;
  private readonly settings: QueueSettings;
  /** One job or an array, by `payload`; the static type was checked by `Job.processJobs`. */
  private readonly worker: JobWorker<Work<D>>;
  private queued: Job<D>[] = [];
  private readonly tasks = new Set<Task<D>>();
  /** A getWork, or a jobDone claiming the next jobs, is in flight: never two at once. */
  private fetching = false;
  private paused_ = true;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Runs the server no longer has running (found after a reconnect): never reported. */
  private readonly lost = new WeakSet<Job<D>>();
  private readonly shutdownFails = new Set<Promise<unknown>>();
  private stopping: ShutdownLevel | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private shutdownDone: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly stopListening: () => void;

  /** Use {@link Job.processJobs}, which types the worker by `payload`; here it is unchecked. */
  constructor(root: JobRoot, type: string | readonly string[], options: JobQueueOptions, worker: JobWorker<never>) {
    this.root = rootName(root);
    this.connection = connectionOf(root);
    // Every call about the queue's jobs goes over the connection that claimed them, whatever
    // becomes the default connection later.
    this.handle = { root: this.root, connection: this.connection };
    this.types = checkedTypes(type);
    this.settings = queueSettings(options);
    if (typeof worker !== 'function') throw new TypeError('JobQueue: the worker must be a function');
    this.worker = worker as JobWorker<Work<D>>;
    this.stopListening = this.connection.onReconnect(() => void this.resync());
    this.resume();
    // A connection not up yet (created without connect()) has no reconnect to wait for.
    this.connection.whenReady().then(() => this.fetch(), () => undefined);
  }

  /** Jobs held locally, not started yet. */
  length(): number {
    return this.queued.length;
  }

  /** Worker calls in flight. */
  running(): number {
    return this.tasks.size;
  }

  /** Nothing queued and nothing running. */
  idle(): boolean {
    return this.queued.length + this.tasks.size === 0;
  }

  /** As many worker calls in flight as `concurrency` allows. */
  full(): boolean {
    return this.tasks.size >= this.settings.concurrency;
  }

  /** Whether `pause()` (or a shutdown) stopped it. */
  get paused(): boolean {
    return this.paused_;
  }

  /** Resolves when nothing is queued or running (at once if so now). */
  onIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops asking for work and starting jobs; running jobs go on. A request for work already
   * waiting on the server may still bring jobs: they are held, not started, until `resume()`.
   */
  pause(): this {
    if (this.paused_) return this;
    this.paused_ = true;
    this.stopPolling();
    return this;
  }

  /** Asks for work and starts jobs again (a queue starts resumed). Not after a shutdown. */
  resume(): this {
    if (!this.paused_ || this.stopping !== undefined) return this;
    this.paused_ = false;
    if (this.settings.pollInterval > 0) {
      this.pollTimer = setInterval(() => this.fetch(), this.settings.pollInterval);
      // The backstop alone must not keep a process alive whose connection was closed.
      this.pollTimer.unref();
    }
    this.fetch();
    this.process();
    return this;
  }

  /** Asks for work now (e.g. when a producer in the same process just saved a job). */
  trigger(): this {
    if (!this.paused_) this.fetch();
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
  shutdown(options?: ShutdownOptions): Promise<void>;
  shutdown(cb: NodeCallback<void>): void;
  shutdown(options: ShutdownOptions, cb: NodeCallback<void>): void;
  shutdown(options?: ShutdownOptions | NodeCallback<void>, cb?: NodeCallback<void>): Promise<void> | void {
    const [given, callback] = typeof options === 'function' ? [{}, options] : [options ?? {}, cb];
    return deliver(attempt(() => this.stop(given.level ?? 'normal')), callback);
  }

  // ---- fetching ----

  /** How many jobs the queue can take now: meteor-job's formula. */
  private room(running = this.tasks.size): number {
    const { prefetch, payload, concurrency } = this.settings;
    return prefetch + payload * (concurrency - running) - this.queued.length;
  }

  private fetch(): void {
    if (this.fetching || this.paused_ || this.stopping !== undefined || !this.connection.connected) return;
    const maxJobs = this.room();
    if (maxJobs <= 0) return;
    const { workTimeout, waitMs } = this.settings;
    const options = {
      maxJobs,
      ...(workTimeout === undefined ? {} : { workTimeout }),
      ...(waitMs > 0 ? { waitMs } : {}),
    };
    this.fetching = true;
    const started = Date.now();
    callJobMethod(this.handle, 'getWork', [this.types as string[], options]).then(
      (docs) => {
        this.fetching = false;
        if (!Array.isArray(docs)) {
          this.report(new Error('Nonarray response from server from getWork()'));
          return;
        }
        if (docs.length > maxJobs) this.report(new Error(`getWork() returned jobs (${docs.length}) in excess of maxJobs (${maxJobs})`));
        this.accept(docs);
        // Ask again at once when work came, or when the server held the request until its time
        // was up; an instant empty answer (a server that does not wait, or one shut down) waits
        // for the next event or poll.
        if (docs.length > 0 || (waitMs > 0 && Date.now() - started >= waitMs / 2)) this.fetch();
      },
      (error: unknown) => {
        this.fetching = false;
        // A dropped connection is no error of the queue's: it resumes after the reconnect.
        if (!(error instanceof DisconnectedError)) this.report(new Error(`Received error from getWork(): ${String(error)}`));
      },
    );
  }

  /**
   * Queues claimed jobs. Jobs a request still under way brings after shutdown began are run
   * while a soft shutdown is in progress, and otherwise given back (failed, as queued jobs are).
   */
  private accept(docs: readonly JobDoc[]): void {
    if (docs.length === 0) return;
    const jobs = docs.map((doc) => new Job<D>(this.handle, doc));
    const softInProgress = this.stopping === 'soft' && this.shutdownDone !== undefined;
    if (this.stopping !== undefined && !softInProgress) {
      this.failAtShutdown(jobs);
      return;
    }
    this.queued.push(...jobs);
    this.process();
  }

  private stopPolling(): void {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  // ---- running ----

  private process(): void {
    const { concurrency, payload } = this.settings;
    const starting = this.stopping === 'soft' || (!this.paused_ && this.stopping === undefined);
    while (starting && this.tasks.size < concurrency && this.queued.length > 0) {
      const task: Task<D> = { jobs: this.queued.splice(0, payload) };
      this.tasks.add(task);
      // Outside this loop, so that a worker that calls back at once cannot nest starts.
      queueMicrotask(() => this.run(task));
    }
    this.checkIdle();
  }

  private run(task: Task<D>): void {
    const work = (this.settings.payload > 1 ? task.jobs : task.jobs[0]) as Work<D>;
    if (this.worker.length >= 2) this.runWithCallback(task, work, this.worker as CallbackWorker<Work<D>>);
    else void this.runPromise(task, work, this.worker as PromiseWorker<Work<D>>);
  }

  private runWithCallback(task: Task<D>, work: Work<D>, worker: CallbackWorker<Work<D>>): void {
    let called = false;
    const cb = (): void => {
      if (called) {
        this.report(new Error('Worker callback called multiple times'));
        if (this.settings.callbackStrict) throw new Error('JobQueue: worker callback was invoked multiple times');
        return;
      }
      called = true;
      this.finish(task);
    };
    try {
      const returned: unknown = worker(work, cb);
      if (isThenable(returned)) returned.then(undefined, (error: unknown) => this.report(error));
    } catch (error) {
      // A worker that throws before calling back would hold its slot forever.
      this.report(error);
      if (!called) void this.complete(task, { ok: false, error }).then(cb);
    }
  }

  private async runPromise(task: Task<D>, work: Work<D>, worker: PromiseWorker<Work<D>>): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = { ok: true, value: await worker(work) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await this.complete(task, outcome);
    this.finish(task);
  }

  /** Reports the task's jobs the worker left unreported; the last done may claim the next jobs. */
  private async complete(task: Task<D>, outcome: Outcome): Promise<void> {
    const open = task.jobs.filter((job) => !isReported(job) && !this.lost.has(job));
    if (open.length === 0) return;
    try {
      if (!outcome.ok) {
        await Promise.all(open.map((job) => job.fail(outcome.error)));
        return;
      }
      const last = open.pop() as Job<D>;
      await Promise.all(open.map((job) => job.done(outcome.value)));
      await this.doneAndClaim(last, outcome.value);
    } catch (error) {
      this.report(error);
    }
  }

  private async doneAndClaim(job: Job<D>, value: unknown): Promise<void> {
    const room = this.room(this.tasks.size - 1);
    const claim = this.settings.claimNext && !this.fetching && !this.paused_ && this.stopping === undefined && this.connection.connected && room > 0;
    if (!claim) {
      await job.done(value);
      return;
    }
    const { _id: id, runId } = job.doc;
    if (id === undefined || runId === null) throw new Error('A queued job has no id or runId');
    markReported(job);
    this.fetching = true;
    let claimed: JobDoc[] = [];
    try {
      const { workTimeout } = this.settings;
      const next = { type: [...this.types], maxJobs: room, ...(workTimeout === undefined ? {} : { workTimeout }) };
      claimed = (await sendDone({ root: this.handle, id, runId }, asPayload(value, {}), {}, next)).jobs;
    } finally {
      this.fetching = false;
    }
    this.accept(claimed);
  }

  private finish(task: Task<D>): void {
    if (!this.tasks.delete(task)) return;
    this.process();
    if (this.stopping === undefined) this.fetch();
    this.checkShutdown();
  }

  private checkIdle(): void {
    if (!this.idle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  // ---- reconnect ----

  /** After a reconnect: keep the runs the server still has running for us, drop the others. */
  private async resync(): Promise<void> {
    const held = [...this.queued, ...[...this.tasks].flatMap((task) => task.jobs)].filter((job) => !isReported(job) && !this.lost.has(job));
    try {
      const alive = new Set<string>();
      for (const part of chunks(held, cumulusLimits.maxBatch)) {
        const runs = part.map((job) => ({ id: job.doc._id as string, runId: job.doc.runId as string }));
        for (const id of await callJobMethod(this.handle, 'reclaimRuns', [runs])) alive.add(id);
      }
      for (const job of held) if (!alive.has(job.doc._id as string)) this.lost.add(job);
      this.queued = this.queued.filter((job) => !this.lost.has(job));
    } catch (error) {
      // Dropped again: the next reconnect tries again. Anything else: keep every run.
      if (error instanceof DisconnectedError) return;
      this.report(new Error(`Could not reclaim running jobs after a reconnect: ${String(error)}`));
    }
    this.process();
    this.fetch();
  }

  // ---- shutdown ----

  private stop(level: ShutdownLevel): Promise<void> {
    if (this.stopping !== undefined && shutdownRank[level] <= shutdownRank[this.stopping]) {
      return this.shutdownPromise as Promise<void>;
    }
    this.stopping = level;
    this.paused_ = true;
    this.stopPolling();
    if (level !== 'soft') this.failAtShutdown(this.queued.splice(0));
    if (level === 'hard') this.failAtShutdown([...this.tasks].flatMap((task) => task.jobs));
    this.shutdownPromise ??= new Promise<void>((resolve) => {
      this.shutdownDone = resolve;
    });
    // Soft: the queued jobs still start, even if the queue was paused.
    this.process();
    this.checkShutdown();
    return this.shutdownPromise;
  }

  private failAtShutdown(jobs: readonly Job<D>[]): void {
    for (const job of jobs) {
      if (isReported(job) || this.lost.has(job)) continue;
      const failing = job.fail(shutdownError).catch((error: unknown) => this.report(error));
      this.shutdownFails.add(failing);
      void failing.then(() => {
        this.shutdownFails.delete(failing);
        this.checkShutdown();
      });
    }
  }

  private checkShutdown(): void {
    if (this.stopping === undefined || this.shutdownDone === undefined || this.shutdownFails.size > 0) return;
    // A hard shutdown does not wait for the workers it failed the jobs of.
    if (this.stopping !== 'hard' && !this.idle()) return;
    const done = this.shutdownDone;
    this.shutdownDone = undefined;
    this.stopListening();
    done();
  }

  private report(error: unknown): void {
    this.settings.errorCallback(error instanceof Error ? error : new Error(String(error)));
  }
}
