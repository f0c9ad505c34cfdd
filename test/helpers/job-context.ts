/**
 * A `JobContext` for testing the job operations without a socket: an in-memory SQLite store
 * of the root `queue`, a fake clock (unless a real one is given), real ids, a silent logger,
 * and the root's runtime (claims and waiting getWork calls, fed by the store's commits) built
 * by the same factory as the server's.
 * `call` goes through `parseParams` as the DDP binding does, so argument checks are exercised.
 */
import assert from 'node:assert/strict';
import Job from 'meteor-job';
import { storeFeed } from '../../server/feed/job-feed.ts';
import { serverCaller, type Caller, type Clock, type JobContext, type JobLimits } from '../../server/jobs/context.ts';
import { createCollectionRuntime, jobOperations, type CollectionRuntime, type JobOperation } from '../../server/jobs/index.ts';
import { createLogger } from '../../server/logger.ts';
import type { JobStore } from '../../server/store/job-store.ts';
import { openStores } from '../../server/store/open-store.ts';
import { CumulusError } from '../../shared/errors.ts';
import type { JobDoc } from '../../shared/job-doc.ts';
import { parseParams, type JobMethodName } from '../../shared/methods.ts';
import { randomId } from '../../shared/random-id.ts';
import { trackResource } from './leak-guard.ts';

/** What each operation resolves to, for typed results of `call`. */
export type OperationResult<N extends JobMethodName> = Awaited<ReturnType<(typeof jobOperations)[N]>>;

export interface TestClock extends Clock {
  /** Moves the clock to `date`. */
  set(date: Date): void;
  /** Moves the clock forward by `ms` and returns the new time. */
  advance(ms: number): Date;
}

export interface JobContextOptions {
  /** A real clock (e.g. `systemClock`) for tests driven by real timers; `set`/`advance` then throw. */
  clock?: Clock;
  /** Start stopped, as upstream's job server does (default: running). */
  stopped?: boolean;
  /** Grace before a lost connection's jobs are requeued (default 10000 ms, as the server's). */
  requeueGraceMs?: number;
  /** Bounds of the operations (default: the server's). */
  limits?: Partial<JobLimits>;
  /** Outcomes one connection may watch and hold (default: the server's). */
  watchLimit?: number;
}

/** A fake DDP connection: its caller, and how often its calls unblocked it. */
export interface TestConnection {
  readonly id: string;
  readonly caller: Caller;
  /** How many times a call of this connection called `unblock()`. */
  readonly unblocks: number;
  /** The connection closes, as the DDP server reports it. */
  close(): void;
}

export interface TestJobContext {
  ctx: JobContext;
  runtime: CollectionRuntime;
  clock: TestClock;
  store: JobStore;
  /** Validates raw params like the DDP binding, then runs the operation. */
  call<N extends JobMethodName>(name: N, ...rawParams: unknown[]): Promise<OperationResult<N>>;
  /** Like `call`, as a given caller (a DDP connection). */
  callAs<N extends JobMethodName>(caller: Caller, name: N, ...rawParams: unknown[]): Promise<OperationResult<N>>;
  /** Opens a fake DDP connection, known to the root's claims as live. */
  connect(id?: string): TestConnection;
  /** Saves a job built with meteor-job (or its doc) as `job.save()` does, and returns the new id. */
  save(job: Job | Record<string, unknown>, options?: Record<string, unknown>): Promise<string>;
  /** Claims exactly one job of `type` with `getWork` and returns it. */
  claim(type: string, options?: Record<string, unknown>): Promise<ClaimedJob>;
  /**
   * Asserts that the call is refused with `400 Match failed`, as Meteor's `check` refuses it,
   * and that it wrote nothing.
   */
  expectMatchFailed(name: JobMethodName, ...rawParams: unknown[]): Promise<void>;
  /** The committed job with its log and failures, or undefined. */
  readJob(id: string): Promise<JobDoc | undefined>;
  /** Like `readJob`, for a job that must exist. */
  mustReadJob(id: string): Promise<JobDoc>;
  /** Every job of the root with log and failures, in creation order: to check that nothing was written. */
  snapshot(): Promise<JobDoc[]>;
  close(): Promise<void>;
}

export type ClaimedJob = JobDoc & { runId: string };

export const root = 'queue';

function fakeClock(start: Date): TestClock {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    set: (date) => {
      now = date.getTime();
    },
    advance: (ms) => {
      now += ms;
      return new Date(now);
    },
  };
}

function realClock(clock: Clock): TestClock {
  const refuse = () => {
    throw new Error('This test context runs on a real clock');
  };
  return { now: () => clock.now(), set: refuse, advance: refuse };
}

export async function createJobContext(options: JobContextOptions = {}): Promise<TestJobContext> {
  const opened = await openStores('sqlite::memory:', [root]);
  const store = opened.stores.get(root);
  if (store === undefined) throw new Error(`no store for ${root}`);
  const clock = options.clock === undefined ? fakeClock(new Date()) : realClock(options.clock);
  const logger = createLogger('silent');
  // No promotion loop: the fake clock drives promotion only through the operations. The
  // scheduler has tests of its own on a real clock.
  const runtime = createCollectionRuntime(
    { root, store, feed: storeFeed(store), logger, clock },
    {
      requeueGraceMs: options.requeueGraceMs ?? 10_000,
      scheduler: false,
      stopped: options.stopped ?? false,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.watchLimit === undefined ? {} : { watcher: { maxWatchedPerConnection: options.watchLimit } }),
    },
  );
  const ctx = runtime.ctx;
  runtime.start();
  let closed = false;
  trackResource('a job context', () => closed);
  const readJob = async (id: string) => (await store.getJobs([id], { log: true, failures: true }))[0];
  const callAs = <N extends JobMethodName>(caller: Caller, name: N, ...rawParams: unknown[]) => {
    const operation = jobOperations[name] as JobOperation<N>;
    // parseParams throws synchronously; a rejected promise is what a caller awaits.
    return Promise.resolve()
      .then(() => operation(ctx, parseParams(name, rawParams), caller))
      .then((result) => result as OperationResult<N>);
  };
  const call = <N extends JobMethodName>(name: N, ...rawParams: unknown[]) => callAs(serverCaller, name, ...rawParams);
  const snapshot = async () => {
    const jobs = await store.list({}, { limit: Number.MAX_SAFE_INTEGER, order: 'created-asc' });
    const docs = await store.getJobs(jobs.map((job) => job._id), { log: true, failures: true });
    const byId = new Map(docs.map((doc) => [doc._id, doc]));
    return jobs.map((job) => byId.get(job._id)).filter((doc) => doc !== undefined);
  };
  return {
    ctx,
    runtime,
    clock,
    store,
    call,
    callAs,
    connect: (id = randomId()) => {
      let unblocks = 0;
      runtime.connectionOpened(id);
      return {
        id,
        caller: { connectionId: id, unblock: () => void (unblocks += 1) },
        get unblocks() {
          return unblocks;
        },
        close: () => runtime.connectionClosed(id),
      };
    },
    save: async (job, options = {}) => {
      const id = await call('jobSave', job instanceof Job ? job.doc : job, options);
      assert.equal(typeof id, 'string', 'jobSave returned no id');
      return id as string;
    },
    claim: async (type, options = {}) => {
      const claimed = await call('getWork', [type], options);
      assert.equal(claimed.length, 1, `expected one ${type} job to claim`);
      const [job] = claimed as [JobDoc];
      assert.equal(typeof job.runId, 'string');
      return job as ClaimedJob;
    },
    expectMatchFailed: async (name, ...rawParams) => {
      const before = await snapshot();
      await assert.rejects(call(name, ...rawParams), (error: unknown) => {
        assert.ok(error instanceof CumulusError, `expected a CumulusError, got ${String(error)}`);
        assert.equal(error.error, 400);
        assert.equal(error.reason, 'Match failed');
        return true;
      });
      assert.deepEqual(await snapshot(), before, `${name} wrote something although it was refused`);
    },
    readJob,
    mustReadJob: async (id) => {
      const job = await readJob(id);
      if (job === undefined) throw new Error(`job ${id} not found`);
      return job;
    },
    snapshot,
    close: async () => {
      await runtime.stop();
      await opened.close();
      closed = true;
    },
  };
}

/** A new job as meteor-job builds it (`new Job('queue', type, data)`), for its `.doc`. */
export function newJob(type: string, data: Record<string, unknown> = {}): Job {
  return new Job(root, type, data);
}

/** A Job made from a document the server sent, as meteor-job makes one (`new Job(root, doc)`). */
export function clientJob(doc: JobDoc): Job {
  return new Job(root, doc as unknown as ConstructorParameters<typeof Job>[1]);
}

/** A client-side Job standing for a saved job, as `job.depends([...])` requires. */
export function savedJob(id: string): Job {
  const job = newJob('saved', {});
  (job.doc as { _id?: string })._id = id;
  return job;
}

/** The messages of a job's log, in order. */
export function logMessages(job: JobDoc): string[] {
  return (job.log ?? []).map((entry) => entry.message);
}

/** The last entry of a job's log. */
export function lastLog(job: JobDoc): NonNullable<JobDoc['log']>[number] {
  const entry = job.log?.at(-1);
  assert.ok(entry !== undefined, `job ${job._id} has no log`);
  return entry;
}

/** Milliseconds after `base`: a Date. */
export function plus(base: Date, ms: number): Date {
  return new Date(base.getTime() + ms);
}
