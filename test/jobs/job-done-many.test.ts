/**
 * jobDoneMany (a Cumulus extension): many runs completed in one call and one transaction, each
 * exactly as jobDone completes it; with `next`, the caller's next jobs claimed in the same
 * transaction.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createJobContext, newJob, type TestJobContext } from '../helpers/job-context.ts';

async function claimed(q: TestJobContext, count: number, type = 't') {
  for (let i = 0; i < count; i += 1) await q.save(newJob(type, { i }));
  return q.call('getWork', [type], { maxJobs: count });
}

describe('jobDoneMany', () => {
  test('completes every current run, answers false for a stale one, and logs each as jobDone does', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const [a, b, c] = await claimed(q, 3);
    assert.ok(a?.runId && b?.runId && c?.runId);
    const answer = await q.call('jobDoneMany', [
      { id: a._id, runId: a.runId, result: { n: 1 } },
      { id: b._id, runId: 'not-its-run' },
      { id: c._id, runId: c.runId },
      // The same run twice: the second finds it completed already.
      { id: a._id, runId: a.runId },
    ]);
    assert.deepEqual(answer, [true, false, true, false]);
    const doneA = await q.mustReadJob(a._id);
    const stillB = await q.mustReadJob(b._id);
    const doneC = await q.mustReadJob(c._id);
    assert.equal(doneA.status, 'completed');
    assert.deepEqual(doneA.result, { n: 1 });
    assert.equal(doneA.log?.at(-1)?.message, 'Job Completed');
    assert.deepEqual(doneA.progress, { completed: 1, total: 1, percent: 100 });
    assert.equal(stillB.status, 'running');
    assert.equal(doneC.status, 'completed');
    assert.deepEqual(doneC.result, {});
  });

  test('with next, claims the next jobs for the caller, only if a run was done', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const worker = q.connect();
    for (let i = 0; i < 2; i += 1) await q.save(newJob('t', { i }));
    const running = await q.callAs(worker.caller, 'getWork', ['t'], { maxJobs: 2 });
    const nextIds = [await q.save(newJob('n', { k: 1 })), await q.save(newJob('n', { k: 2 }))];

    const refused = await q.callAs(worker.caller, 'jobDoneMany', [{ id: running[0]?._id, runId: 'stale' }], { next: { type: 'n' } });
    assert.deepEqual(refused, { done: [false], jobs: [] });

    const answer = await q.callAs(
      worker.caller,
      'jobDoneMany',
      running.map((job) => ({ id: job._id, runId: job.runId })),
      { next: { type: 'n', maxJobs: 5 } },
    );
    assert.ok(!Array.isArray(answer));
    assert.deepEqual(answer.done, [true, true]);
    assert.deepEqual(answer.jobs.map((job) => job._id), nextIds);
    assert.ok(answer.jobs.every((job) => job.status === 'running'));
    assert.equal(q.ctx.claims.load(worker.id), 2);
  });

  test('refuses a malformed call with a 400 and writes nothing', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const [job] = await claimed(q, 1);
    assert.ok(job?.runId);
    const good = { id: job._id, runId: job.runId };
    await q.expectMatchFailed('jobDoneMany', []);
    await q.expectMatchFailed('jobDoneMany', [good, { id: job._id }]);
    await q.expectMatchFailed('jobDoneMany', [good, { ...good, result: 'not an object' }]);
    await q.expectMatchFailed('jobDoneMany', [{ ...good, extra: 1 }]);
    await q.expectMatchFailed('jobDoneMany', Array.from({ length: 1001 }, () => good));
    await q.expectMatchFailed('jobDoneMany', [good], { next: { type: 't', maxJobs: 0 } });
    await q.expectMatchFailed('jobDoneMany', 'not an array');
    assert.equal((await q.mustReadJob(job._id)).status, 'running');
  });
});
