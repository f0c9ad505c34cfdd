/**
 * `serve(handlers)`: the worker side of submit-and-await (Atmosphere's rain cloud). Each
 * handler runs the jobs of its type: it gets a ticket `{type, name, id}`, the job's data and a
 * context, and its return value (or the promise's) is the job's result; a throw fails the job,
 * and the job's retry settings apply.
 *
 * Exclusive mode by default (concurrency 1): a worker runs one job at a time and asks for work
 * only when it has room, so the server never hands a busy worker a job, and among idle workers
 * the least loaded gets it (docs/PROTOCOL.md §7.11). A handler awaiting jobs it submitted lends
 * its slot meanwhile (see `JobQueue.lendWhile`), so recursion cannot deadlock the worker.
 */
import { resultDocument } from '../shared/chains.ts';
import { defaultRoot } from '../shared/constants.ts';
import type { CumulusConnection } from './connection.ts';
import { handlerScope } from './handler-scope.ts';
import type { JobData } from './job-builder.ts';
import { connectionOf } from './job-root.ts';
import { Job, type LogOptions } from './job.ts';
import type { JobQueue } from './job-queue.ts';
import { submit, type RpcJob, type SubmitOptions } from './rpc.ts';
import { checkSerializable } from './serializable.ts';

/** Which job a handler runs: Atmosphere's ticket. */
export interface Ticket {
  type: string;
  /** The job's (its chain's) name, if it was given one. */
  name: string | undefined;
  /** The job's id. */
  id: string;
}

/** What a handler can do besides returning: submit more work, log, report progress. */
export interface HandlerContext<D extends JobData = JobData> {
  /**
   * `submit()` on behalf of this job: the work records it as parent (cancelling this job cancels
   * it), and this job's slot is lent while the outcome is awaited.
   */
  submit<R = unknown>(work: RpcJob | readonly RpcJob[], options?: SubmitOptions): Promise<R>;
  /** Adds a log entry to the job. */
  log(message: string, options?: LogOptions): Promise<boolean>;
  /** Reports progress; false when the run is no longer current (cancelled, say): time to stop. */
  progress(completed: number, total: number): Promise<boolean | null>;
  /** The job itself, with meteor-job's API. */
  job: Job<D>;
}

export type Handler<D extends JobData = JobData> = (ticket: Ticket, data: D, context: HandlerContext<D>) => unknown;

export interface ServeOptions {
  /** The collection root; default `queue`. */
  root?: string;
  /** Jobs run at once; default 1 (exclusive mode: a busy worker is never handed work). */
  concurrency?: number;
  /** The connection to serve on; default the root's (see `connect()`). */
  connection?: CumulusConnection;
  /** The name the server records on each job this worker runs; default `<host>:<pid>`. */
  workerName?: string;
  /** How busy this worker's machine is, for least-loaded routing; default the OS load per CPU (see `JobQueueOptions`). */
  machineLoad?: () => number;
  /** Receives the errors of the underlying queue (a failed request for work…); default a process warning. */
  errorCallback?: (error: Error) => void;
}

export interface Served {
  /** The queue running the handlers: its events, `onIdle()`, `pause()`… */
  readonly queue: JobQueue;
  /** Stops taking work, lets the running jobs finish, and resolves once they have. */
  close(): Promise<void>;
}

/**
 * Runs `handlers` (job type → handler) on the jobs of their types until `close()`.
 *
 * @example
 * const served = serve({
 *   resize: async (ticket, data, ctx) => {
 *     const meta = await ctx.submit({ type: 'probe', data: { url: data.url } });
 *     return { resized: data.url, meta };
 *   },
 * });
 */
export function serve(handlers: Readonly<Record<string, Handler>>, options: ServeOptions = {}): Served {
  const types = Object.keys(handlers);
  if (types.length === 0) throw new TypeError('serve: give at least one handler (job type → function)');
  for (const type of types) if (typeof handlers[type] !== 'function') throw new TypeError(`serve: the handler of ${type} is not a function`);
  const root = options.root ?? defaultRoot;
  const connection = options.connection ?? connectionOf(root);
  const handle = { root, connection };
  const queue: JobQueue = Job.processJobs(
    handle,
    types,
    {
      concurrency: options.concurrency ?? 1,
      ...(options.workerName === undefined ? {} : { workerName: options.workerName }),
      ...(options.machineLoad === undefined ? {} : { machineLoad: options.machineLoad }),
      ...(options.errorCallback === undefined ? {} : { errorCallback: options.errorCallback }),
    },
    async (job: Job) => {
      const handler = handlers[job.type] as Handler;
      const { _id: id, runId } = job.doc;
      if (id === undefined || runId === null || runId === undefined) throw new Error(`serve: job ${String(id)} has no run`);
      const ticket: Ticket = { type: job.type, name: job.doc.name, id };
      const context: HandlerContext = {
        // Never `submit(work, undefined)`: an explicit undefined is Atmosphere's fire-and-forget.
        submit: (work, submitOptions) => (submitOptions === undefined ? submit(work) : submit(work, submitOptions)),
        log: (message, logOptions) => job.log(message, logOptions),
        progress: (completed, total) => job.progress(completed, total),
        job,
      };
      const scope = { root, connection, parent: { id, runId }, lendWhile: <T>(waiting: Promise<T>) => queue.lendWhile(job, waiting), running: true };
      let value: unknown;
      try {
        value = await handlerScope.run(scope, () => handler(ticket, job.data, context));
      } finally {
        scope.running = false;
      }
      checkSerializable(value, `the result of the ${job.type} handler`);
      return resultDocument(value);
    },
  );
  return {
    queue,
    close: () => queue.shutdown({ level: 'soft' }),
  };
}
