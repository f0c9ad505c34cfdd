/**
 * Helpers for the compatibility scenarios: one real server and one original client
 * (meteor-job@1.5.2 over ddp@0.12.1) per scenario, and small promise wrappers over
 * meteor-job's callback API so each scenario reads like the calls a user would make.
 */
import assert from 'node:assert/strict';
import { connectMeteorJob, Job, viaCallback, type MeteorJobClient } from '../helpers/meteor-job-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

export { Job, viaCallback, waitFor };
export type { MeteorJobClient, TestServer };

export const root = 'queue';
export const patience = { timeoutMs: 10_000 };

/** Meteor's Random.id alphabet: 17 characters, never escaped by idStringify (docs/PROTOCOL.md §1.9). */
export const meteorId = /^[23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz]{17}$/;

export interface LogEntry {
  time: Date;
  runId: string | null;
  level: string;
  message: string;
  data?: Record<string, unknown>;
}

/** A job document as a client sees it in method results (EJSON decoded by ddp). */
export type Doc = Record<string, unknown> & {
  _id: string;
  runId: string | null;
  type: string;
  status: string;
  data: Record<string, unknown>;
  log?: LogEntry[];
  failures?: Record<string, unknown>[];
  after: Date;
};

/** A serialized Meteor.Error as the ddp client hands it to a callback (docs/PROTOCOL.md §1.7). */
export interface MeteorError {
  isClientSafe: boolean;
  error: number | string;
  reason?: string;
  details?: unknown;
  message: string;
  errorType: string;
}

export interface Scenario {
  server: TestServer;
  client: MeteorJobClient;
}

type Env = Parameters<typeof startTestServer>[0];

/** Runs `body` against a fresh server and client, and always closes both. */
export async function withServer(env: Env, body: (scenario: Scenario) => Promise<void>): Promise<void> {
  const server = await startTestServer(env);
  let client: MeteorJobClient | undefined;
  try {
    client = await connectMeteorJob(server.port, [root]);
    await body({ server, client });
  } finally {
    client?.close();
    await server.stop();
  }
}

/** `job.save([options], cb)` */
export function save(job: Job, options?: { cancelRepeats?: boolean }): Promise<string | null> {
  return viaCallback<string | null>((cb) => (options === undefined ? job.save(cb) : job.save(options, cb)));
}

/** `Job.getWork(root, type, {maxJobs}, cb)`: always an array because maxJobs is given. */
export async function getWork(type: string | string[], options: { maxJobs: number; workTimeout?: number }): Promise<Job[]> {
  const jobs = await viaCallback<Job[]>((cb) => Job.getWork(root, type, options, cb as never));
  assert.ok(Array.isArray(jobs), 'getWork with maxJobs yields an array');
  return jobs;
}

/** `Job.getWork(root, type, {}, cb)` without maxJobs: the first job, or undefined. */
export function getOne(type: string | string[], options: { workTimeout?: number } = {}): Promise<Job | undefined> {
  return viaCallback<Job | undefined>((cb) => Job.getWork(root, type, options, cb as never));
}

/** Claims exactly one job of `type`, failing the scenario when there is none. */
export async function claim(type: string, options: { workTimeout?: number } = {}): Promise<Job> {
  const job = await getOne(type, options);
  assert.ok(job instanceof Job, `a ${type} job is ready to claim`);
  return job;
}

/** Waits until a job of `type` is ready, then claims it. */
export async function claimWhenReady(client: MeteorJobClient, id: string, options: { workTimeout?: number } = {}): Promise<Job> {
  await waitFor(async () => (await statusOf(client, id)) === 'ready', { ...patience, description: `job ${id} ready` });
  const doc = await fetchDoc(client, id);
  const job = await claim(doc.type, options);
  assert.equal(job.doc._id, id);
  return job;
}

/** A raw `getJob` (meteor-job has no way to ask for failures). */
export async function fetchDoc(client: MeteorJobClient, id: string, options: { getLog?: boolean; getFailures?: boolean } = { getLog: true, getFailures: true }): Promise<Doc> {
  const doc = (await client.call(`${root}_getJob`, id, options)) as Doc | null;
  assert.ok(doc, `job ${id} exists`);
  return doc;
}

export async function statusOf(client: MeteorJobClient, id: string): Promise<string> {
  return (await fetchDoc(client, id, {})).status;
}

export async function waitForStatus(client: MeteorJobClient, id: string, status: string): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      last = await statusOf(client, id);
      return last === status;
    },
    { ...patience, description: `job ${id} ${status}` },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; last status ${last}`);
  });
}

export function messages(doc: { log?: LogEntry[] }): string[] {
  return (doc.log ?? []).map((entry) => entry.message);
}

export function lastLog(doc: { log?: LogEntry[] }): LogEntry {
  const entry = doc.log?.at(-1);
  assert.ok(entry, 'the job has a log');
  return entry;
}

export function findLog(doc: { log?: LogEntry[] }, message: string): LogEntry {
  const entry = doc.log?.find((e) => e.message === message);
  assert.ok(entry, `log has "${message}": ${JSON.stringify(messages(doc))}`);
  return entry;
}

/** Asserts a Date within [from, to] (ms), with a message naming the field. */
export function assertTimeBetween(value: unknown, from: number, to: number, what: string): void {
  assert.ok(value instanceof Date, `${what} is a Date`);
  const t = value.getTime();
  assert.ok(t >= from && t <= to, `${what} = ${value.toISOString()} within [${new Date(from).toISOString()}, ${new Date(to).toISOString()}]`);
}

/** Asserts the full shape of a serialized Meteor.Error, keys in Meteor's order (docs/PROTOCOL.md §1.7). */
export function assertMeteorError(error: unknown, code: number | string, reason: string): asserts error is MeteorError {
  assert.ok(error !== null && typeof error === 'object', `an error object, got ${String(error)}`);
  assert.ok(!(error instanceof Error), 'ddp hands callbacks a plain error object, not an Error');
  const e = error as MeteorError;
  assert.equal(e.isClientSafe, true);
  assert.equal(e.error, code);
  assert.equal(e.reason, reason);
  assert.equal(e.message, `${reason} [${code}]`);
  assert.equal(e.errorType, 'Meteor.Error');
  const order = ['isClientSafe', 'error', 'reason', 'details', 'message', 'errorType'];
  assert.deepEqual(Object.keys(e), order.filter((key) => key in e), 'Meteor.Error keys in Meteor order');
}

/** Resolves with the rejection reason of `promise`, failing if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise;
    assert.fail(`expected an error, got ${JSON.stringify(value)}`);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return error;
  }
}

/** Rejects when `promise` does not settle within `ms` (for calls that could hang). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
