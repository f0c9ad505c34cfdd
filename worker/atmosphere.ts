/**
 * Atmosphere's API over Cumulus, so code written for Atmosphere runs nearly unchanged:
 * `rainMaker` submits jobs and chains and calls back `(error, data)`; `rainCloud` registers
 * handlers `(ticket, data)` that finish with `rainCloud.doneWith(ticket, error, result)` (or by
 * returning a promise). Both share one connection per process, made by the first `init`; a rain
 * cloud is also a rain maker, and a `rainMaker.submit` made inside a handler submits on behalf
 * of the handler's job (see `serve()`).
 *
 * Differences: `init` takes Cumulus' connection options (`url`, `token`, …) instead of a Firebase
 * URL; errors are `Error` objects (a failed link is an `RpcJobError` carrying the worker's error
 * as `failure`); the monitoring GUI is Cumulus' own.
 */
import { connect, type CumulusConnection } from './connection.ts';
import type { ConnectOptions } from './connection-options.ts';
import { warn } from './connection-options.ts';
import { submit, type RpcCallback, type RpcJob } from './rpc.ts';
import { serve, type Served, type Ticket } from './serve.ts';

export interface AtmosphereOptions extends ConnectOptions {
  /** The Cumulus server; default `CUMULUS_URL`, else `http://127.0.0.1:3000`. */
  url?: string;
  /** The collection root; default `queue`. */
  root?: string;
  /** Rain clouds: one job at a time (Atmosphere's exclusive mode). Default true. */
  exclusive?: boolean;
  /** Rain clouds that are not exclusive: jobs run at once. Default 4. */
  concurrency?: number;
}

/** Atmosphere's work function: it ends the job with `rainCloud.doneWith(ticket, error, result)`, or returns a promise. */
export type RainBucket = (ticket: Ticket, data: Record<string, unknown>) => unknown;

type InitCallback = (error?: Error) => void;

/** A job's timeout when the first link gives none: Atmosphere's one minute. */
const defaultTimeoutSeconds = 60;

let connection: Promise<CumulusConnection> | undefined;
let root: string | undefined;
const clouds: Served[] = [];
/** Handlers waiting for their `doneWith`, by ticket id. */
const openTickets = new Map<string, { done(error: unknown, result: unknown): void }>();

function connectOnce(options: AtmosphereOptions): Promise<CumulusConnection> {
  root ??= options.root;
  connection ??= connect(options.url ?? process.env.CUMULUS_URL ?? 'http://127.0.0.1:3000', options).catch((error: unknown) => {
    connection = undefined;
    throw error;
  });
  return connection;
}

function optionsAndCallback<T>(options: AtmosphereOptions | T | undefined, rest: T | undefined): [AtmosphereOptions, T | undefined] {
  return typeof options === 'function' ? [{}, options] : [(options ?? {}) as AtmosphereOptions, rest];
}

function finishInit(work: Promise<unknown>, cb: InitCallback | undefined): void {
  work.then(
    () => cb?.(),
    (error: unknown) => {
      const asError = error instanceof Error ? error : new Error(String(error));
      if (cb === undefined) warn(asError);
      else cb(asError);
    },
  );
}

export const rainMaker = {
  /** Connects (once per process); `cb(error)` when done. `_role` named the process in Atmosphere. */
  init(_role: string, options?: AtmosphereOptions | InitCallback, cb?: InitCallback): void {
    const [given, callback] = optionsAndCallback(options, cb);
    finishInit(connectOnce(given), callback);
  },

  /**
   * Submits a job or a chain; `cb(error, data)` once, with the outcome, or with an error (a
   * failed link, a timeout — 60 s unless the first link says otherwise — or no connection).
   * `submit(chain, undefined)` is fire-and-forget: errors are only reported as warnings.
   */
  submit(work: RpcJob | readonly RpcJob[], cb: RpcCallback<unknown> | undefined): void {
    const first = Array.isArray(work) ? (work[0] as RpcJob | undefined) : (work as RpcJob);
    const links = Array.isArray(work) ? work : [work];
    const timed = cb === undefined || first === undefined || first.timeout !== undefined
      ? links
      : [{ ...first, timeout: defaultTimeoutSeconds }, ...links.slice(1)];
    if (connection === undefined) {
      const error = new Error('ENOCONNECT: call rainMaker.init (or rainCloud.init) before submitting');
      if (cb === undefined) warn(error);
      else process.nextTick(cb, error);
      return;
    }
    const submitted = connection.then((conn) => {
      const options = { connection: conn, ...(root === undefined ? {} : { root }) };
      return cb === undefined ? submit(timed, { ...options, fireAndForget: true }) : submit(timed, options);
    });
    submitted.then(
      (data) => cb?.(null, data),
      (error: unknown) => {
        const asError = error instanceof Error ? error : new Error(String(error));
        if (cb === undefined) warn(asError);
        else cb(asError);
      },
    );
  },

  /** Closes the process's connection (and stops its rain clouds first). */
  async close(): Promise<void> {
    await Promise.all(clouds.splice(0).map((cloud) => cloud.close()));
    const closing = connection;
    connection = undefined;
    root = undefined;
    if (closing !== undefined) await (await closing.catch(() => undefined))?.close();
  },
};

export const rainCloud = {
  /**
   * Connects (once per process) and runs `rainBuckets` (job type → work function) on the jobs of
   * their types; `cb(error)` once listening. Safe to call again: it adds job types.
   */
  init(role: string, options: AtmosphereOptions | Record<string, RainBucket>, rainBuckets?: Record<string, RainBucket> | InitCallback, cb?: InitCallback): void {
    // Both Atmosphere shapes: init(role, rainBuckets, cb) and init(role, options, rainBuckets, cb).
    const [given, buckets, callback] = typeof rainBuckets === 'function' || rainBuckets === undefined
      ? [{} as AtmosphereOptions, options as Record<string, RainBucket>, rainBuckets]
      : [options as AtmosphereOptions, rainBuckets, cb];
    const started = connectOnce(given).then((conn) => {
      const handlers = Object.fromEntries(Object.entries(buckets).map(([type, bucket]) => [type, (ticket: Ticket, data: Record<string, unknown>) => runBucket(bucket, ticket, data)]));
      clouds.push(serve(handlers, {
        connection: conn,
        concurrency: given.exclusive === false ? (given.concurrency ?? 4) : 1,
        workerName: `${role}:${process.pid}`,
        ...(root === undefined ? {} : { root }),
      }));
    });
    finishInit(started, callback);
  },

  /** Ends a job: with `error` set it fails (and its chain stops), otherwise `result` is its result. */
  doneWith(ticket: Ticket, error: unknown, result?: unknown): void {
    const open = openTickets.get(ticket.id);
    if (open === undefined) {
      warn(new Error(`doneWith: job ${ticket.id} is not running here (already done?)`));
      return;
    }
    open.done(error, result);
  },

  /** Stops the rain clouds (running jobs finish) and closes the connection. */
  close(): Promise<void> {
    return rainMaker.close();
  },
};

/** Runs a work function until it calls `doneWith` for its ticket, or its promise settles. */
function runBucket(bucket: RainBucket, ticket: Ticket, data: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    openTickets.set(ticket.id, {
      done(error, result) {
        openTickets.delete(ticket.id);
        // Atmosphere's "error defined": anything but undefined and null fails the job.
        if (error !== undefined && error !== null) reject(error);
        else resolve(result);
      },
    });
    try {
      const returned: unknown = bucket(ticket, data);
      if (typeof (returned as { then?: unknown } | null)?.then === 'function') {
        (returned as Promise<unknown>).then(
          (result) => openTickets.get(ticket.id)?.done(undefined, result),
          (error: unknown) => openTickets.get(ticket.id)?.done(error ?? new Error('the work function rejected'), undefined),
        );
      }
    } catch (error) {
      openTickets.get(ticket.id)?.done(error ?? new Error('the work function threw'), undefined);
    }
  });
}
