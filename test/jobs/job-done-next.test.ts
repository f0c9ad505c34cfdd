/**
 * jobDone with `next` (a Cumulus extension): the run is completed as jobDone always does it,
 * then, in the same transaction, the caller's next jobs are claimed as getWork claims them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobDoc } from '../../shared/job-doc.ts';
import { createJobContext, newJob, savedJob, type TestConnection, type TestJobContext } from '../helpers/job-context.ts';

async function claimFor(q: TestJobContext, connection: TestConnection, type = 't') {
  const id = await q.save(newJob(type));
  const [job] = await q.callAs(connection.caller, 'getWork', [type]);
  assert.equal(job?._id, id);
  return { id, runId: job.runId as string };
}

function claimedBy(job: JobDoc): string | undefined {
  return (job as JobDoc & { _private?: { claimedBy?: string } })._private?.claimedBy;
}

describe('jobDone: next', () => {
  test('completes the run, then claims the next job for the caller', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const run = await claimFor(q, a);
    const nextId = await q.save(newJob('n', { k: 1 }));
    const answer = await q.callAs(a.caller, 'jobDone', run.id, run.runId, { ok: true }, { next: { type: 'n', workTimeout: 1000 } });
    assert.ok(typeof answer === 'object');
    assert.equal(answer.done, true);
    const [job, ...more] = answer.jobs;
    assert.equal(more.length, 0);
    assert.equal(job?._id, nextId);
    assert.deepEqual(job.data, { k: 1 });
    assert.equal(job.status, 'running');
    assert.equal(job.workTimeout, 1000);
    assert.equal('_private' in job, false);
    assert.equal('log' in job, false);
    assert.notEqual(job.runId, run.runId);
    const completed = await q.mustReadJob(run.id);
    assert.equal(completed.status, 'completed');
    assert.deepEqual(completed.result, { ok: true });
    const claimed = await q.mustReadJob(nextId);
    assert.equal(claimed.runId, job.runId);
    assert.equal(claimedBy(claimed), a.id);
    assert.equal(q.ctx.claims.load(a.id), 1);
  });

  test('claims up to maxJobs of the listed types, in priority order, under one runId', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const run = await claimFor(q, a);
    await q.save(newJob('x', { n: 0 }));
    await q.save(newJob('y', { n: 1 }).priority('high'));
    await q.save(newJob('x', { n: 2 }).priority('low'));
    const answer = await q.callAs(a.caller, 'jobDone', run.id, run.runId, {}, { next: { type: ['x', 'y'], maxJobs: 2 } });
    assert.ok(typeof answer === 'object');
    assert.deepEqual(answer.jobs.map((job) => job.data.n), [1, 0]);
    assert.equal(new Set(answer.jobs.map((job) => job.runId)).size, 1);
  });

  test('answers jobs: [] when nothing is ready, and keeps repeatId', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const id = await q.save(newJob('t').repeat({ repeats: 1, wait: 60_000 }));
    const [job] = await q.callAs(a.caller, 'getWork', ['t']);
    assert.ok(job?.runId);
    const answer = await q.callAs(a.caller, 'jobDone', id, job.runId, {}, { repeatId: true, next: { type: 't' } });
    assert.ok(typeof answer === 'object');
    assert.equal(typeof answer.done, 'string');
    assert.notEqual(answer.done, id);
    // The repeat waits a minute: nothing to claim.
    assert.deepEqual(answer.jobs, []);
  });

  test('claims the dependent that the done has just released', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const run = await claimFor(q, a);
    const dependent = await q.save(newJob('d').depends([savedJob(run.id)]));
    const answer = await q.callAs(a.caller, 'jobDone', run.id, run.runId, {}, { next: { type: 'd' } });
    assert.ok(typeof answer === 'object');
    assert.deepEqual(answer.jobs.map((job) => job._id), [dependent]);
  });

  test('claims nothing when the done is refused: {done: false, jobs: []}', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const run = await claimFor(q, a);
    const ready = await q.save(newJob('t'));
    const before = await q.snapshot();
    assert.deepEqual(await q.callAs(a.caller, 'jobDone', run.id, 'StaleRunIdXXXXXXX', {}, { next: { type: 't' } }), { done: false, jobs: [] });
    assert.deepEqual(await q.snapshot(), before);
    assert.equal((await q.mustReadJob(ready)).status, 'ready');
  });

  test('claims nothing while the job server is stopped, but completes the run', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const run = await claimFor(q, a);
    const ready = await q.save(newJob('t'));
    await q.call('shutdownJobServer', {});
    assert.deepEqual(await q.callAs(a.caller, 'jobDone', run.id, run.runId, {}, { next: { type: 't' } }), { done: true, jobs: [] });
    assert.equal((await q.mustReadJob(run.id)).status, 'completed');
    assert.equal((await q.mustReadJob(ready)).status, 'ready');
  });

  test('answers as before without next', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const run = await claimFor(q, a);
    await q.save(newJob('t'));
    assert.equal(await q.callAs(a.caller, 'jobDone', run.id, run.runId, {}, {}), true);
  });

  test('refuses a bad next with 400', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const run = await claimFor(q, q.connect());
    await q.expectMatchFailed('jobDone', run.id, run.runId, {}, { next: { type: 't', maxJobs: 0 } });
    await q.expectMatchFailed('jobDone', run.id, run.runId, {}, { next: { type: 't', extra: 1 } });
    await q.expectMatchFailed('jobDone', run.id, run.runId, {}, { next: { maxJobs: 1 } });
  });
});
