// Workers that wait for work on a real server: getWork {waitMs} answered as soon as another
// connection saves a job, without holding up the waiting connection's other calls; the
// least-loaded of several waiting workers served first; jobDone {next} over DDP.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Job from 'meteor-job';
import type { JobDoc } from '../../shared/job-doc.ts';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { connectSimpleDdp, type SimpleDDP } from '../helpers/simpleddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const patience = { timeoutMs: 10_000 };
/** Long enough never to end during a test: an answer before it is the work, not the time. */
const longWait = 30_000;

/** A method call whose answer may still be outstanding. */
interface Pending {
  readonly answered: boolean;
  readonly result: Promise<DdpMessage>;
}

function pending(result: Promise<DdpMessage>): Pending {
  let answered = false;
  void result.then(() => (answered = true), () => undefined);
  return {
    result,
    get answered() {
      return answered;
    },
  };
}

function jobsOf(message: DdpMessage): JobDoc[] {
  assert.equal(message.error, undefined, `unexpected error ${JSON.stringify(message.error)}`);
  assert.ok(Array.isArray(message.result), `not an array: ${JSON.stringify(message.result)}`);
  return message.result as JobDoc[];
}

describe('waiting workers', () => {
  let server: TestServer;
  let producer: SimpleDDP;
  const clients: RawDdpClient[] = [];

  const worker = async () => {
    const client = await RawDdpClient.connect(server.url, { timeoutMs: 10_000, autoPong: true });
    clients.push(client);
    return client;
  };
  const save = async (type: string, data: Record<string, unknown> = {}) => {
    const id = await producer.call('queue_jobSave', new Job('queue', type, data).doc, {});
    assert.equal(typeof id, 'string');
    return id as string;
  };
  const waiting = (count: number) =>
    waitFor(() => server.server.contexts.get('queue')?.dispatcher.size === count, { ...patience, description: `${count} waiting getWork calls` });
  const getWork = (client: RawDdpClient, type: string, options: Record<string, unknown> = {}) =>
    client.call('queue_getWork', [[type], options]);

  beforeEach(async () => {
    server = await startTestServer();
    producer = await connectSimpleDdp(server.wsUrl);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await producer.disconnect();
    await server.stop();
  });

  it("answers a waiting getWork as soon as another connection saves a job of its type", async () => {
    const a = await worker();
    const call = getWork(a, 'mail', { waitMs: longWait });
    await waiting(1);
    const id = await save('mail', { to: 'x' });
    const [job, ...more] = jobsOf(await call);
    assert.equal(more.length, 0);
    assert.equal(job?._id, id);
    assert.equal(job.status, 'running');
    assert.equal(typeof job.runId, 'string');
    assert.deepEqual(job.data, { to: 'x' });
    assert.equal('_private' in job, false);
  });

  it("keeps answering the waiting connection's other calls and pings", async () => {
    const a = await worker();
    await save('t');
    const [running] = jobsOf(await getWork(a, 't'));
    assert.ok(running?.runId);
    const call = pending(getWork(a, 't', { waitMs: longWait }));
    await waiting(1);
    a.send({ msg: 'ping', id: 'still-there' });
    await a.nextMessage((m) => m.msg === 'pong' && m.id === 'still-there');
    assert.equal((await a.call('queue_jobLog', [running._id, running.runId, 'working', {}])).result, true);
    assert.equal((await a.call('queue_jobDone', [running._id, running.runId, {}, {}])).result, true);
    assert.equal(call.answered, false);
    const id = await save('t');
    assert.deepEqual(jobsOf(await call.result).map((job) => job._id), [id]);
  });

  it('answers [] when waitMs passes', async () => {
    const a = await worker();
    assert.deepEqual(jobsOf(await getWork(a, 'none', { waitMs: 20 })), []);
    await waiting(0);
  });

  it('answers every waiting getWork with [] at shutdownJobServer', async () => {
    const a = await worker();
    const b = await worker();
    const calls = [getWork(a, 't', { waitMs: longWait }), getWork(b, 'u', { waitMs: longWait })];
    await waiting(2);
    assert.equal(await producer.call('queue_shutdownJobServer', { timeout: 60_000 }), true);
    assert.deepEqual((await Promise.all(calls)).map(jobsOf), [[], []]);
  });

  it('answers waiting calls with [] when the server stops, then closes', async () => {
    const a = await worker();
    const call = pending(getWork(a, 't', { waitMs: longWait }));
    await waiting(1);
    await server.server.stop();
    await a.closed;
    assert.equal(call.answered, true);
    assert.deepEqual(jobsOf(await call.result), []);
  });

  it('gives the job to the idle worker when a busy one waits too', async () => {
    const busy = await worker();
    const idle = await worker();
    await save('t');
    assert.equal(jobsOf(await getWork(busy, 't')).length, 1);
    // The busy worker waits first: arrival alone would favour it.
    const busyCall = pending(getWork(busy, 't', { waitMs: longWait }));
    await waiting(1);
    const idleCall = getWork(idle, 't', { waitMs: longWait });
    await waiting(2);
    const first = await save('t');
    assert.deepEqual(jobsOf(await idleCall).map((job) => job._id), [first]);
    await waiting(1);
    assert.equal(busyCall.answered, false);
    const second = await save('t');
    assert.deepEqual(jobsOf(await busyCall.result).map((job) => job._id), [second]);
  });

  it('completes a job and claims the next in one call with jobDone {next}', async () => {
    const a = await worker();
    await save('t', { n: 1 });
    const [first] = jobsOf(await getWork(a, 't'));
    assert.ok(first?.runId);
    const nextId = await save('t', { n: 2 });
    const answer = await a.call('queue_jobDone', [first._id, first.runId, { ok: 1 }, { next: { type: 't', maxJobs: 5 } }]);
    const result = answer.result as { done: boolean; jobs: JobDoc[] };
    assert.equal(result.done, true);
    assert.deepEqual(result.jobs.map((job) => [job._id, job.status, job.data]), [[nextId, 'running', { n: 2 }]]);
    const [next] = result.jobs;
    assert.ok(next?.runId);
    assert.ok(next.after instanceof Date, 'EJSON dates survive the trip');
    assert.deepEqual((await a.call('queue_jobDone', [next._id, next.runId, {}, { next: { type: 't' } }])).result, { done: true, jobs: [] });
    assert.deepEqual((await a.call('queue_jobDone', [next._id, next.runId, {}, { next: { type: 't' } }])).result, { done: false, jobs: [] });
  });
});
