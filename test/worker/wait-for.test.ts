// Producer helpers: Job.saveMany (one jobSaveMany call) and awaiting a job's end with
// job.result() / Job.waitFor(), pushed through the connection's one waiting `outcomes` call
// (docs/PROTOCOL.md §7.12).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, Job, JobFailedError, JobNotFoundError, WaitTimeoutError, type NodeCallback } from '../../worker/index.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorkerEnv, testConnectOptions, type WorkerEnv } from './helpers/worker-env.ts';

describe('saveMany and waiting for results', () => {
  let env: WorkerEnv;
  let calls: string[] = [];
  before(async () => {
    env = await startWorkerEnv();
    const apply = env.connection.apply.bind(env.connection);
    env.connection.apply = ((method: string, params: unknown[]) => {
      calls.push(method);
      return apply(method, params);
    }) as typeof env.connection.apply;
  });
  after(() => env.stop());

  /** Claims the job of `type` and runs `finish` on it. */
  const work = async (type: string, finish: (job: Job) => Promise<unknown>) => {
    const job = await Job.getWork('queue', type);
    assert.ok(job, `a ${type} job to work on`);
    return finish(job);
  };

  it('saves many jobs in one call and gives each its id', async () => {
    calls = [];
    const jobs = Array.from({ length: 50 }, (_, i) => new Job('queue', 'many', { i }).priority(i % 2 === 0 ? 'high' : 'low'));
    const ids = await Job.saveMany('queue', jobs);
    assert.deepEqual(calls, ['queue_jobSaveMany']);
    assert.equal(new Set(ids).size, 50);
    assert.deepEqual(jobs.map((job) => job.id), ids);
    const stored = await Job.getJobs('queue', ids as string[]);
    assert.deepEqual(new Set(stored.map((job) => job.doc.priority)), new Set([-10, 10]));
    assert.deepEqual(await Job.saveMany('queue', []), [], 'nothing to save, no call');
  });

  it('saves more than one batch, and answers null for a job that was not saved', async () => {
    const cancelled = new Job('queue', 'many-dep', {});
    await cancelled.save();
    await cancelled.cancel();
    const jobs: Job[] = Array.from({ length: 1001 }, (_, i) => new Job('queue', 'many-big', { i }));
    jobs.push(new Job('queue', 'many-dep', {}).depends([cancelled]));
    calls = [];
    const ids = await new Promise<(string | null)[] | undefined>((resolve, reject) => {
      Job.saveMany('queue', jobs, (error, result) => (error ? reject(error) : resolve(result)));
    });
    assert.deepEqual(calls, ['queue_jobSaveMany', 'queue_jobSaveMany']);
    assert.equal(ids?.length, 1002);
    assert.equal(ids?.at(-1), null, 'its antecedent was cancelled');
    assert.equal(ids?.filter((id) => typeof id === 'string').length, 1001);
  });

  it('resolves with the result once the job completes, pushed without polling', async () => {
    const job = new Job('queue', 'wait-done', {});
    await job.save();
    calls = [];
    const result = job.result();
    await work('wait-done', (running) => running.done({ answer: 42 }));
    assert.deepEqual(await result, { answer: 42 });
    assert.equal(calls.filter((c) => c === 'queue_jobWatch').length, 1, 'one watch, which answers or waits');
    assert.equal(calls.filter((c) => c === 'queue_getJob').length, 0, 'no reading, no polling');
  });

  it('lets several waiters on one connection await the same job, through one watch', async () => {
    const job = new Job('queue', 'wait-twice', {});
    const id = (await job.save()) as string;
    calls = [];
    const waiters = [job.result(), Job.waitFor('queue', id), Job.waitFor('queue', id)];
    await waitFor(() => calls.includes('queue_outcomes'), { description: 'the wait under way' });
    await work('wait-twice', (running) => running.done({ twice: true }));
    assert.deepEqual(await Promise.all(waiters), [{ twice: true }, { twice: true }, { twice: true }]);
    assert.equal(calls.filter((c) => c === 'queue_jobWatch').length, 1);
  });

  it('resolves at once for a job completed already; a non-object result comes as {value}', async () => {
    const job = new Job('queue', 'wait-before', {});
    await job.save();
    await work('wait-before', (running) => running.done('plain'));
    assert.deepEqual(await Job.waitFor('queue', job.id as string), { value: 'plain' });
  });

  it('waits through a failure that will be retried', async () => {
    const job = new Job('queue', 'wait-retry', {}).retry({ retries: 1, wait: 0 });
    await job.save();
    const result = job.result();
    await work('wait-retry', (running) => running.fail('once'));
    let second: Job | undefined;
    await waitFor(async () => (second = await Job.getWork('queue', 'wait-retry')) !== undefined, { timeoutMs: 5000 });
    await second?.done({ second: true });
    assert.deepEqual(await result, { second: true });
  });

  it('rejects with JobFailedError, status and failures, once the job failed for good', async () => {
    const job = new Job('queue', 'wait-fail', {});
    await job.save();
    const result = job.result();
    let runId: string | null = null;
    await work('wait-fail', (running) => {
      runId = running.doc.runId;
      return running.fail({ reason: 'disk full' });
    });
    await assert.rejects(result, (error: unknown) => {
      assert.ok(error instanceof JobFailedError);
      assert.equal(error.status, 'failed');
      assert.equal(error.jobId, job.id);
      assert.deepEqual(error.failures, [{ reason: 'disk full', runId }]);
      return true;
    });
  });

  it('rejects with JobFailedError when the job is cancelled', async () => {
    const job = new Job('queue', 'wait-cancel', {});
    await job.save();
    const result = Job.waitFor('queue', job.id as string);
    await job.cancel();
    await assert.rejects(result, (error: unknown) => error instanceof JobFailedError && error.status === 'cancelled' && /was cancelled/.test(error.message));
  });

  it('rejects with JobNotFoundError for an unknown job; an unsaved job cannot be awaited', async () => {
    await assert.rejects(Job.waitFor('queue', 'no-such-job'), (error: unknown) => error instanceof JobNotFoundError && error.jobId === 'no-such-job');
    await assert.rejects(new Job('queue', 'wait-unsaved', {}).result(), /unsaved job/);
  });

  it('gives up after timeoutMs with WaitTimeoutError, the job untouched', async () => {
    const job = new Job('queue', 'wait-timeout', {});
    await job.save();
    await assert.rejects(job.result({ timeoutMs: 50 }), WaitTimeoutError);
    assert.equal((await Job.getJob('queue', job.id as string))?.doc.status, 'ready');
  });

  it('calls back, meteor-job style', async () => {
    const job = new Job('queue', 'wait-cb', {});
    await job.save();
    const result = new Promise<unknown>((resolve, reject) => {
      const cb: NodeCallback<Record<string, unknown>> = (error, value) => (error ? reject(error) : resolve(value));
      Job.waitFor('queue', job.id as string, cb);
    });
    await work('wait-cb', (running) => running.done({ cb: true }));
    assert.deepEqual(await result, { cb: true });
  });

  it('keeps watching across a reconnect', async () => {
    const watcher = await connect(env.server.wsUrl, { ...testConnectOptions, setAsDefault: false });
    try {
      const job = new Job('queue', 'wait-reconnect', {});
      await job.save();
      const result = Job.waitFor({ root: 'queue', connection: watcher }, job.id as string);
      let reconnected = false;
      watcher.onReconnect(() => (reconnected = true));
      watcher.reconnect();
      await work('wait-reconnect', (running) => running.done({ after: 'reconnect' }));
      assert.deepEqual(await result, { after: 'reconnect' });
      await watcher.whenReady();
      assert.equal(reconnected, true);
    } finally {
      await watcher.close();
    }
  });
});
