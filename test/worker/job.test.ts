// Every instance and static method of Job against a real server, with promises and with
// meteor-job-style callbacks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, CumulusError, Job, type NodeCallback } from '../../worker/index.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startWorkerEnv, testConnectOptions, type WorkerEnv } from './helpers/worker-env.ts';

/** A callback API as a promise, to check what the callback was given. */
function viaCallback<T>(start: (cb: NodeCallback<T>) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => start((error, result) => (error ? reject(error) : resolve(result))));
}

describe('Job against a real server', () => {
  let env: WorkerEnv;
  before(async () => {
    env = await startWorkerEnv({ CUMULUS_COLLECTIONS: 'queue,other' });
  });
  after(() => env.stop());

  const status = async (id: string) => (await Job.getJob('queue', id))?.doc.status;

  it('saves, claims, logs, reports progress and completes (promises)', async () => {
    const job = new Job('queue', 'p-run', { to: 'a' }).priority('high').retry({ retries: 2, wait: 1000 });
    const id = await job.save();
    assert.equal(typeof id, 'string');
    assert.equal(job.id, id);
    assert.equal(await Job.getWork('queue', 'p-nothing'), undefined);
    const work = await Job.getWork('queue', 'p-run');
    assert.ok(work instanceof Job);
    assert.equal(work.id, id);
    assert.equal(work.doc.status, 'running');
    assert.equal(typeof work.doc.runId, 'string');
    assert.equal(await work.log('halfway', { level: 'warning', data: { step: 1 } }), true);
    assert.equal(await work.progress(5, 10), true);
    assert.deepEqual(work.doc.progress, { completed: 5, total: 10, percent: 50 });
    assert.equal(await work.done('sent'), true);
    const stored = await Job.getJob('queue', id as string, { getLog: true });
    assert.equal(stored?.doc.status, 'completed');
    assert.deepEqual(stored?.doc.result, { value: 'sent' });
    assert.deepEqual(stored?.doc.log?.map((e) => e.message), ['Constructed', 'Job Submitted', 'Promoted to ready', 'Job Running', 'halfway', 'Job Completed']);
    assert.equal(await work.done(), false, 'a second done is refused: the run is over');
  });

  it('saves, claims, logs, reports progress and completes (callbacks)', async () => {
    const job = new Job('queue', 'c-run', {});
    const id = await viaCallback<string | null>((cb) => job.save(cb));
    const [work] = (await viaCallback<Job[]>((cb) => Job.getWork('queue', 'c-run', { maxJobs: 5 }, cb))) ?? [];
    assert.ok(work);
    assert.equal(await viaCallback((cb) => work.log('note', cb)), true);
    assert.equal(await viaCallback((cb) => work.progress(1, 2, cb)), true);
    assert.equal(await viaCallback((cb) => work.done({ ok: true }, cb)), true);
    const refreshed = await viaCallback<Job | false>((cb) => job.refresh(cb));
    assert.equal(refreshed, job);
    assert.equal(job.doc.status, 'completed');
    assert.equal((await viaCallback<Job | undefined>((cb) => Job.getJob('queue', id as string, cb)))?.doc.status, 'completed');
  });

  it('fails a run, retries it, and fails it for good; an Error travels as {value, name, stack}', async () => {
    const id = (await new Job('queue', 'flaky', {}).retry({ retries: 1, wait: 0 }).save()) as string;
    const first = await Job.getWork('queue', 'flaky');
    assert.equal(await first?.fail(new TypeError('bad input')), true);
    await waitFor(async () => (await status(id)) === 'ready', { timeoutMs: 5000 });
    const second = await Job.getWork('queue', 'flaky');
    assert.equal(await viaCallback((cb) => second?.fail({ code: 42 }, { fatal: true }, cb)), true);
    const failed = await Job.getJob('queue', id, { getFailures: true });
    assert.equal(failed?.doc.status, 'failed');
    const [error, fatal] = failed?.doc.failures ?? [];
    assert.equal(error?.value, 'bad input');
    assert.equal(error?.name, 'TypeError');
    assert.match(String(error?.stack), /TypeError: bad input/);
    assert.deepEqual(fatal, { code: 42, runId: second?.doc.runId });
  });

  it('pauses, resumes, cancels, restarts, reruns, readies and removes one job (promises)', async () => {
    const job = new Job('queue', 'p-admin', {});
    const id = (await job.save()) as string;
    assert.equal(await job.pause(), true);
    assert.equal(await status(id), 'paused');
    assert.equal(await job.resume(), true);
    assert.equal(await status(id), 'ready');
    assert.equal(await job.cancel(), true);
    assert.equal(await status(id), 'cancelled');
    assert.equal(await job.restart(), true);
    assert.equal(await status(id), 'ready');
    const running = await Job.getWork('queue', 'p-admin');
    assert.equal(await running?.done(), true);
    const rerunId = await running?.rerun({ wait: 0 });
    assert.equal(typeof rerunId, 'string');
    assert.equal(await status(rerunId as string), 'ready');
    assert.equal(await running?.remove(), true);
    assert.equal(await Job.getJob('queue', id), undefined);
    assert.equal(await job.refresh(), false, 'a removed job refreshes to false');

    const later = new Job('queue', 'p-admin', {}).delay(60_000);
    const laterId = (await later.save()) as string;
    assert.equal(await status(laterId), 'waiting');
    assert.equal(await later.ready(), false, 'not due yet');
    assert.equal(await later.ready({ time: new Date(Date.now() + 120_000) }), true);
    assert.equal(await status(laterId), 'ready');
  });

  it('pauses, resumes, cancels, restarts and removes one job (callbacks)', async () => {
    const job = new Job('queue', 'c-admin', {});
    const id = (await job.save()) as string;
    assert.equal(await viaCallback((cb) => job.pause(cb)), true);
    assert.equal(await viaCallback((cb) => job.resume({}, cb)), true);
    assert.equal(await viaCallback((cb) => job.cancel({ antecedents: false }, cb)), true);
    assert.equal(await viaCallback((cb) => job.restart(cb)), true);
    assert.equal(await viaCallback((cb) => job.cancel(cb)), true);
    assert.equal(await viaCallback((cb) => job.remove(cb)), true);
    assert.equal(await status(id), undefined);
    const later = new Job('queue', 'c-admin', {}).delay(60_000);
    await later.save();
    assert.equal(await viaCallback((cb) => later.ready({ force: true, time: new Date(Date.now() + 120_000) }, cb)), true);
    const running = await Job.getWork('queue', 'c-admin');
    await running?.done();
    assert.equal(typeof (await viaCallback((cb) => running?.rerun({ wait: 0 }, cb))), 'string');
  });

  it('reads many jobs and changes them in batches over more ids than one chunk', async () => {
    const jobs = Array.from({ length: 300 }, (_, i) => new Job('queue', 'batch', { i }));
    const ids = (await Job.saveMany('queue', jobs)) as string[];
    const statuses = async () => new Set((await Job.getJobs('queue', ids)).map((job) => job.doc.status));
    assert.equal((await Job.getJobs('queue', ids)).length, 300);
    assert.equal(await Job.pauseJobs('queue', ids), true);
    assert.deepEqual(await statuses(), new Set(['paused']));
    assert.equal(await viaCallback((cb) => Job.resumeJobs('queue', ids, cb)), true);
    assert.deepEqual(await statuses(), new Set(['ready']));
    assert.equal(await Job.cancelJobs('queue', ids), true);
    assert.deepEqual(await statuses(), new Set(['cancelled']));
    assert.equal(await viaCallback((cb) => Job.restartJobs('queue', ids, cb)), true);
    assert.deepEqual(await statuses(), new Set(['ready']));
    assert.equal(await viaCallback((cb) => Job.cancelJobs('queue', ids, {}, cb)), true);
    assert.equal(await Job.removeJobs('queue', ids), true);
    assert.deepEqual(await Job.getJobs('queue', ids), []);
    assert.equal(await viaCallback<Job[]>((cb) => Job.getJobs('queue', ids, cb)).then((found) => found?.length), 0);
    assert.equal(await Job.pauseJobs('queue', []), false, 'no ids, no call');

    const due = new Job('queue', 'batch-ready', {}).delay(60_000);
    await due.save();
    assert.equal(await Job.readyJobs('queue', [due.id as string], { time: new Date(Date.now() + 120_000) }), true);
    assert.equal(await status(due.id as string), 'ready');
  });

  it('stops and starts the job server (and the old names)', async () => {
    await new Job('queue', 'server-control', {}).save();
    assert.equal(await Job.shutdownJobServer('queue', { timeout: 60_000 }), true);
    assert.equal(await Job.getWork('queue', 'server-control'), undefined, 'no work while stopped');
    assert.equal(await viaCallback((cb) => Job.startJobServer('queue', cb)), true);
    assert.equal(await viaCallback((cb) => Job.stopJobs('queue', cb)), true);
    assert.equal(await Job.startJobs('queue'), true);
    assert.ok(await Job.getWork('queue', 'server-control'));
  });

  it('reports bad use as rejections or callback errors, and an ignored one never crashes', async () => {
    const unsaved = new Job('queue', 'misuse', {});
    await assert.rejects(unsaved.done(), /unsaved or non-running/);
    await assert.rejects(unsaved.cancel(), /unsaved job/);
    await assert.rejects(viaCallback((cb) => unsaved.fail('x', cb)), /unsaved or non-running/);
    await assert.rejects(unsaved.progress(3, 2), RangeError);
    await assert.rejects(unsaved.log('x', { level: 'loud' as never }), /Log level/);
    await assert.rejects(Job.getWork('queue', 'misuse', { workTimeout: 0 }), /workTimeout/);
    await assert.rejects(Job.pauseJobs('queue', 'not-a-list' as never), /array/);
    await assert.rejects(new Job('queue', 'misuse', {}).save({ colour: 'red' } as { cancelRepeats?: boolean }), (error: unknown) => error instanceof CumulusError && error.error === 400);
    // meteor-job style fire-and-forget: the rejection is dropped, not left unhandled.
    void unsaved.done();
    void Job.getJob('queue', 42 as never);
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('uses the connection set for a root, or the one a root handle carries', async () => {
    const other = await connect(env.server.wsUrl, { ...testConnectOptions, setAsDefault: false });
    try {
      Job.setDDP(other, ['other']);
      const id = await new Job('other', 'rooted', {}).save();
      assert.equal((await Job.getJob('other', id as string))?.doc.type, 'rooted');
      const handle = { root: 'other', connection: other };
      const viaHandle = await Job.getJob(handle, id as string);
      assert.equal(viaHandle?.root, 'other');
      assert.equal(await Job.getJob('queue', id as string), undefined, 'another root, another collection');
    } finally {
      await other.close();
    }
    // A closed connection is forgotten: the root falls back to the default connection.
    assert.equal(await Job.getJob('other', 'x'), undefined);
  });
});
