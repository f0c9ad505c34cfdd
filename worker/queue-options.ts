/**
 * The options of `Job.processJobs`, their defaults (meteor-job's, plus the Cumulus ones), and
 * the worker function's two accepted shapes.
 */
import { availableParallelism, hostname, loadavg } from 'node:os';
import { cumulusLimits } from '../shared/methods.ts';
import type { Job } from './job.ts';
import type { JobData } from './job-builder.ts';

/** What a worker is given: one job, or with `payload` > 1 an array of jobs (even of one). */
export type WorkOf<D extends JobData, P extends number> = [P] extends [1] ? Job<D> : number extends P ? Job<D> | Job<D>[] : Job<D>[];

/** Tells the queue a meteor-job-style worker has finished with its job(s). */
export type WorkerCallback = () => void;

/**
 * meteor-job's worker: it reports with `job.done()` / `job.fail()` itself and then calls `cb()`.
 * Recognised by declaring two parameters.
 */
export type CallbackWorker<W> = (work: W, cb: WorkerCallback) => void;

/**
 * A worker that returns (or resolves with) the result — the queue then calls `done(result)` —
 * or throws (rejects) — the queue then calls `fail(error)`. Jobs it already reported itself
 * are left alone.
 */
export type PromiseWorker<W> = (work: W) => unknown;

/**
 * Either shape, as one signature (so that an arrow function gets its parameter types): a
 * function declaring two parameters is a {@link CallbackWorker}, any other a {@link PromiseWorker}.
 */
export type JobWorker<W> = (work: W, cb: WorkerCallback) => unknown;

export interface JobQueueOptions<P extends number = number> {
  /** Worker calls in flight at most. Default 1. */
  concurrency?: number;
  /** Jobs per worker call; above 1 the worker gets an array. Default 1. */
  payload?: P;
  /** Extra jobs claimed ahead and held locally. Default 0. */
  prefetch?: number;
  /**
   * A backstop poll period (ms): the queue already asks for work whenever it has room and the
   * server answers a waiting request as soon as work is ready. Default 5000; `false` or 0: never.
   */
  pollInterval?: number | false;
  /** The lease of each claimed job (ms): the server fails a run it hears nothing of for this long. */
  workTimeout?: number;
  /**
   * Cumulus: how long a request for work may wait on the server for a job to become ready
   * (ms, at most 60 000). Default 30 000; 0 asks and returns at once, as meteor-job does.
   */
  waitMs?: number;
  /**
   * Cumulus: when a job completes and the queue has room, claim the next jobs in the same
   * round trip (`jobDone` with `next`). Default true.
   */
  claimNext?: boolean;
  /**
   * Cumulus: the name the server records on each job this queue runs, and shows with its load.
   * Default `<host name>:<process id>`.
   */
  workerName?: string;
  /**
   * Cumulus: how busy this worker's machine is, reported with each request for work for the
   * server's least-loaded routing (0 idle, 1 every CPU busy). Default: the operating system's
   * one-minute load average per CPU; give your own measure where that misleads (a container).
   */
  machineLoad?: () => number;
  /** Throw when a worker calls its callback twice (it is always reported). Default false. */
  callbackStrict?: boolean;
  /**
   * Receives the queue's errors (a failed getWork, a refused completion…). Default: a process
   * warning, unless the queue has `error` listeners. If it throws, the error and what it threw
   * become a process warning.
   */
  errorCallback?: (error: Error) => void;
}

export interface QueueSettings {
  concurrency: number;
  payload: number;
  prefetch: number;
  /** 0: never poll. */
  pollInterval: number;
  workTimeout: number | undefined;
  waitMs: number;
  claimNext: boolean;
  callbackStrict: boolean;
  errorCallback: ((error: Error) => void) | undefined;
  workerName: string;
  machineLoad: () => number;
}

export const queueDefaults = {
  concurrency: 1,
  payload: 1,
  prefetch: 0,
  pollInterval: 5000,
  waitMs: 30_000,
  claimNext: true,
  callbackStrict: false,
} as const;

/** The longest delay `setInterval` takes; a longer one would fire at once. */
const maxTimerMs = 2 ** 31 - 1;

function integerAtLeast(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new TypeError(`JobQueue: ${name} must be an integer >= ${min}`);
  }
  return value;
}

export function queueSettings(options: JobQueueOptions): QueueSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('JobQueue: options must be an object');
  const { pollInterval } = options;
  // As meteor-job: a falsy interval means never, anything else but an integer the default, and
  // one a timer cannot hold (meteor-job's `Job.forever`) never as well.
  const given = pollInterval === false ? 0 : Number.isInteger(pollInterval) ? (pollInterval as number) : queueDefaults.pollInterval;
  const poll = given > maxTimerMs ? 0 : given;
  if (options.errorCallback !== undefined && typeof options.errorCallback !== 'function') {
    throw new TypeError('JobQueue: errorCallback must be a function');
  }
  if (options.callbackStrict !== undefined && typeof options.callbackStrict !== 'boolean') {
    throw new TypeError('JobQueue: callbackStrict must be a boolean');
  }
  const waitMs = integerAtLeast('waitMs', options.waitMs ?? queueDefaults.waitMs, 0);
  if (waitMs > cumulusLimits.maxWaitMs) throw new TypeError(`JobQueue: waitMs must be at most ${cumulusLimits.maxWaitMs}`);
  return {
    concurrency: integerAtLeast('concurrency', options.concurrency ?? queueDefaults.concurrency, 1),
    payload: integerAtLeast('payload', options.payload ?? queueDefaults.payload, 1),
    prefetch: integerAtLeast('prefetch', options.prefetch ?? queueDefaults.prefetch, 0),
    pollInterval: integerAtLeast('pollInterval', poll, 0),
    workTimeout: options.workTimeout === undefined ? undefined : integerAtLeast('workTimeout', options.workTimeout, 1),
    waitMs,
    claimNext: options.claimNext ?? queueDefaults.claimNext,
    callbackStrict: options.callbackStrict ?? queueDefaults.callbackStrict,
    workerName: checkedWorkerName(options.workerName),
    machineLoad: checkedFunction('machineLoad', options.machineLoad) ?? osLoadPerCpu,
    errorCallback: options.errorCallback,
  };
}

export function checkedTypes(type: unknown): string[] {
  const types = typeof type === 'string' ? [type] : type;
  if (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === 'string' && t.length > 0)) {
    throw new TypeError('JobQueue: type must be a non-empty string or an array of them');
  }
  return [...types] as string[];
}

/** The operating system's one-minute load average per CPU. */
export function osLoadPerCpu(): number {
  const [oneMinute = 0] = loadavg();
  return oneMinute / availableParallelism();
}

function checkedFunction<F>(name: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`JobQueue: ${name} must be a function`);
  return value;
}

function checkedWorkerName(name: unknown): string {
  if (name === undefined) return `${hostname()}:${process.pid}`;
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new TypeError('JobQueue: workerName must be a string of 1 to 200 characters');
  }
  return name;
}
