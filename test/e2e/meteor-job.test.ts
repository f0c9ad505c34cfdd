// The original meteor-job@1.5.2 client over ddp@0.12.1, unchanged, against a real Cumulus
// server on a real SQLite file: the compatibility promise of the project.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { connectMeteorJob, Job, viaCallback, type MeteorJobClient } from '../helpers/meteor-job-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const patience = { timeoutMs: 10_000 };

describe('meteor-job + ddp against Cumulus', () => {
  let server: TestServer;
  let client: MeteorJobClient;

  beforeEach(async () => {
    server = await startTestServer();
    client = await connectMeteorJob(server.port);
  });
  afterEach(async () => {
    client.close();
    await server.stop();
  });

  const save = (job: Job) => viaCallback<string | null>((cb) => job.save(cb));
  const getWork = (type: string | string[], options: { maxJobs?: number; workTimeout?: number } = {}) =>
    viaCallback<Job | Job[] | undefined>((cb) => Job.getWork('queue', type, options, cb as never));
  const getJob = async (id: string, getLog = false) => {
    const job = await viaCallback<Job | undefined>((cb) => Job.getJob('queue', id, { getLog }, cb));
    assert.ok(job, `job ${id} exists`);
    return job;
  };
  const statusOf = async (id: string) => (await getJob(id)).doc.status;

  it('saves, claims, logs, reports progress and completes a job', async () => {
    const id = await save(new Job('queue', 'email', { to: 'a@example.com' }).priority('high').retry({ retries: 2, wait: 1000 }));
    assert.equal(typeof id, 'string');
    const job = (await getWork('email')) as Job;
    assert.ok(job instanceof Job);
    assert.equal(job.doc._id, id);
    assert.deepEqual(job.data, { to: 'a@example.com' });
    assert.equal(job.doc.status, 'running');
    assert.equal(job.doc.priority, -10);
    assert.equal(job.doc.retries, 2);
    assert.equal(job.doc.retried, 1);
    assert.equal(job.doc.log, undefined, 'getWork omits the log');

    assert.equal(await viaCallback((cb) => job.log('halfway', { level: 'warning', data: { step: 1 } }, cb)), true);
    assert.equal(await viaCallback((cb) => job.progress(50, 100, cb)), true);
    assert.equal(await viaCallback((cb) => job.done({ sent: true }, cb)), true);

    const stored = await getJob(id!, true);
    assert.equal(stored.doc.status, 'completed');
    assert.deepEqual(stored.doc.result, { sent: true });
    assert.deepEqual(stored.doc.progress, { completed: 100, total: 100, percent: 100 });
    const log = stored.doc.log as { message: string; level: string; data?: unknown }[];
    assert.deepEqual(log.map((e) => e.message), ['Constructed', 'Job Submitted', 'Promoted to ready', 'Job Running', 'halfway', 'Job Completed']);
    assert.deepEqual(log[4], { ...log[4], level: 'warning', data: { step: 1 } });
  });

  it('retries a failed job and fails it for good when its retries run out', async () => {
    const id = (await save(new Job('queue', 'flaky', {}).retry({ retries: 1, wait: 0 })))!;
    const first = (await getWork('flaky')) as Job;
    assert.equal(await viaCallback((cb) => first.fail('boom', cb)), true);
    // A retry with wait 0 is promoted at once, not at the next 15 s pass.
    await waitFor(async () => (await statusOf(id)) === 'ready', patience);
    const second = (await getWork('flaky')) as Job;
    assert.equal(second.doc._id, id);
    assert.notEqual(second.doc.runId, first.doc.runId);
    assert.equal(await viaCallback((cb) => second.fail({ code: 42 }, cb)), true);
    const failed = (await viaCallback<Job>((cb) => Job.getJob('queue', id, { getLog: true }, cb as never)));
    assert.equal(failed.doc.status, 'failed');
    const messages = (failed.doc.log as { message: string; level: string }[]).filter((e) => e.message.startsWith('Job Failed'));
    assert.deepEqual(messages.map((e) => [e.message, e.level]), [
      ['Job Failed with Error: boom.', 'warning'],
      ['Job Failed with Fatal Error.', 'danger'],
    ]);
    const [withFailures] = (await client.call('queue_getJob', [id], { getFailures: true })) as { failures: { runId: string }[] }[];
    assert.deepEqual(withFailures?.failures.map((f) => f.runId), [first.doc.runId, second.doc.runId]);
  });

  it('refuses a completion from a stale run', async () => {
    const id = (await save(new Job('queue', 'stale', {})))!;
    const job = (await getWork('stale')) as Job;
    assert.equal(await viaCallback((cb) => job.cancel(cb)), true);
    assert.equal(await viaCallback((cb) => job.done({}, cb)), false);
    assert.equal(await viaCallback((cb) => job.progress(1, 2, cb)), false);
    assert.equal(await statusOf(id), 'cancelled');
  });

  it('pauses, resumes, cancels, restarts, reruns and removes single jobs', async () => {
    const id = (await save(new Job('queue', 'admin', { n: 1 })))!;
    const job = await getJob(id);
    assert.equal(await viaCallback((cb) => job.pause(cb)), true);
    assert.equal(await statusOf(id), 'paused');
    assert.equal(await viaCallback((cb) => job.resume(cb)), true);
    assert.equal(await statusOf(id), 'ready');
    assert.equal(await viaCallback((cb) => job.cancel(cb)), true);
    assert.equal(await statusOf(id), 'cancelled');
    assert.equal(await viaCallback((cb) => job.restart(cb)), true);
    assert.equal(await statusOf(id), 'ready');
    const running = (await getWork('admin')) as Job;
    assert.equal(await viaCallback((cb) => running.done({}, cb)), true);
    const rerunId = await viaCallback<string | false>((cb) => running.rerun({ wait: 0 }, cb));
    assert.equal(typeof rerunId, 'string');
    assert.equal(await statusOf(rerunId as string), 'ready');
    assert.equal(await viaCallback((cb) => running.remove(cb)), true);
    assert.equal(await viaCallback((cb) => Job.getJob('queue', id, cb as never)), undefined);
  });

  it('runs batch admin calls over more ids than one chunk', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 300; i += 1) ids.push((await save(new Job('queue', 'batch', { i })))!);
    const call = (name: 'pauseJobs' | 'resumeJobs' | 'cancelJobs' | 'restartJobs' | 'removeJobs') =>
      viaCallback<boolean>((cb) => (Job[name] as (root: string, ids: string[], cb: unknown) => void)('queue', ids, cb));
    // Read with a raw call: meteor-job's getJobs rebuilds each job from type and data only,
    // so its docs always say "waiting" (a client bug).
    const statuses = async () => {
      const docs = (await client.call('queue_getJob', ids, {})) as { status: string }[];
      assert.equal(docs.length, ids.length);
      return new Set(docs.map((doc) => doc.status));
    };
    assert.equal(await call('pauseJobs'), true);
    assert.deepEqual(await statuses(), new Set(['paused']));
    assert.equal(await call('resumeJobs'), true);
    assert.deepEqual(await statuses(), new Set(['ready']));
    assert.equal(await call('cancelJobs'), true);
    assert.deepEqual(await statuses(), new Set(['cancelled']));
    assert.equal(await call('restartJobs'), true);
    assert.deepEqual(await statuses(), new Set(['ready']));
    assert.equal(await call('cancelJobs'), true);
    assert.equal(await call('removeJobs'), true);
    assert.equal(await client.call('queue_getJob', ids, {}), null, 'all removed');
  });

  it('processes jobs with Job.processJobs, never over its concurrency', async () => {
    const count = 24;
    for (let i = 0; i < count; i += 1) await save(new Job('queue', 'work', { i }));
    let inFlight = 0;
    let maxInFlight = 0;
    const seen = new Set<number>();
    const release: (() => void)[] = [];
    const queue = Job.processJobs('queue', 'work', { concurrency: 4, pollInterval: 50 }, (job, cb) => {
      const single = job as Job;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      seen.add(single.data.i as number);
      // Hold each job until the test releases it, so that several are in flight at once.
      release.push(() => single.done({}, () => {
        inFlight -= 1;
        cb();
      }));
    });
    try {
      await waitFor(() => {
        while (release.length > 0) release.shift()?.();
        return seen.size === count && inFlight === 0;
      }, patience);
    } finally {
      queue.pause();
      await new Promise<void>((resolve) => queue.shutdown({ level: 'soft', quiet: true }, resolve));
    }
    assert.equal(seen.size, count);
    assert.ok(maxInFlight <= 4, `at most 4 in flight, saw ${maxInFlight}`);
  });

  it('resolves dependencies and repeats jobs', async () => {
    const antecedentId = (await save(new Job('queue', 'first', {})))!;
    const antecedent = await getJob(antecedentId);
    const dependentId = (await save(new Job('queue', 'second', {}).depends([antecedent])))!;
    assert.equal(await statusOf(dependentId), 'waiting');
    assert.deepEqual(await getWork('second', { maxJobs: 5 }), []);
    const first = (await getWork('first')) as Job;
    assert.equal(await viaCallback((cb) => first.done({}, cb)), true);
    assert.equal(await statusOf(dependentId), 'ready');
    const dependent = await getJob(dependentId);
    assert.deepEqual(dependent.doc.resolved, [antecedentId]);
    assert.deepEqual(dependent.doc.depends, []);

    const repeatingId = (await save(new Job('queue', 'tick', {}).repeat({ repeats: 1, wait: 0 })))!;
    const tick = (await getWork('tick')) as Job;
    const nextId = await viaCallback<string | boolean>((cb) => tick.done({}, { repeatId: true }, cb));
    assert.equal(typeof nextId, 'string');
    assert.notEqual(nextId, repeatingId);
    const next = await getJob(nextId as string);
    assert.equal(next.doc.status, 'ready');
    assert.equal(next.doc.repeats, 0);
    assert.equal(next.doc.repeated, 1);
  });

  it('stops and starts the job server, failing running jobs at the shutdown deadline', async () => {
    const id = (await save(new Job('queue', 'long', {}).retry({ retries: 0 })))!;
    const running = (await getWork('long')) as Job;
    assert.equal(running.doc._id, id);
    await save(new Job('queue', 'long', {}));
    assert.equal(await viaCallback((cb) => Job.shutdownJobServer('queue', { timeout: 50 }, cb)), true);
    assert.deepEqual(await getWork('long', { maxJobs: 1 }), [], 'no work while stopped');
    assert.equal(await viaCallback((cb) => running.progress(1, 2, cb)), null, 'progress answers null while stopped');
    await waitFor(async () => (await statusOf(id)) === 'failed', patience);
    const failed = await viaCallback<Job>((cb) => Job.getJob('queue', id, { getLog: true }, cb as never));
    assert.ok((failed.doc.log as { message: string }[]).some((e) => e.message === 'Job Failed with Fatal Error: Running at Job Server shutdown..'));
    assert.equal(await viaCallback((cb) => Job.startJobServer('queue', cb)), true);
    const work = (await getWork('long', { maxJobs: 1 })) as Job[];
    assert.equal(work.length, 1);
  });

  it('answers malformed calls with Meteor errors and writes nothing', async () => {
    const good = new Job('queue', 'bad', {}).doc;
    await assert.rejects(client.call('queue_jobSave', { ...good, status: 'running' }), { error: 400, reason: 'Match failed' });
    await assert.rejects(client.call('queue_jobSave', { ...good, colour: 'red' }), { error: 400, reason: 'Match failed' });
    await assert.rejects(client.call('queue_getWork', 'bad', { maxJobs: 0 }), { error: 400 });
    await assert.rejects(client.call('queue_getWork', 'bad', null), { error: 400 });
    await assert.rejects(client.call('queue_jobDone', 'x'), { error: 400 });
    await assert.rejects(client.call('queue_noSuchMethod'), { error: 404, reason: "Method 'queue_noSuchMethod' not found" });
    assert.deepEqual(await getWork('bad', { maxJobs: 10 }), []);
    assert.equal(await client.call('queue_jobDone', 'missing', 'run', {}), false);
  });
});
