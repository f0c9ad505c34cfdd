/**
 * releaseRuns (a Cumulus extension, docs/PROTOCOL.md §7.14): a worker gives back runs it claimed
 * but will not start; they are requeued at once, the attempt given back.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createJobContext, newJob } from '../helpers/job-context.ts';

describe('releaseRuns', () => {
  test('puts the caller’s runs back in the queue, the attempt given back', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const worker = q.connect();
    const id = await q.save(newJob('t').retry({ retries: 2 }));
    const before = await q.mustReadJob(id);
    const [job] = await q.callAs(worker.caller, 'getWork', ['t']);
    assert.ok(job?.runId);
    assert.equal(q.ctx.claims.load(worker.id), 1);

    assert.deepEqual(await q.callAs(worker.caller, 'releaseRuns', [{ id, runId: job.runId }]), [id]);
    const released = await q.mustReadJob(id);
    assert.equal(released.status, 'ready');
    assert.equal(released.runId, null);
    assert.equal(released.retries, before.retries);
    assert.deepEqual(
      released.log?.slice(-2).map((entry) => [entry.message, entry.runId]),
      [
        ['Released: the worker gave the job back', job.runId],
        ['Promoted to ready', null],
      ],
    );
    assert.equal(q.ctx.claims.load(worker.id), 0);
    // Claimable again at once.
    assert.equal((await q.callAs(worker.caller, 'getWork', ['t']))[0]?._id, id);
  });

  test('leaves alone a stale runId, another connection’s run and a job that is not running', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const mine = q.connect();
    const theirs = q.connect();
    await q.save(newJob('t'));
    await q.save(newJob('t'));
    const [own] = await q.callAs(mine.caller, 'getWork', ['t']);
    const [other] = await q.callAs(theirs.caller, 'getWork', ['t']);
    const waiting = await q.save(newJob('t').delay(60_000));
    assert.ok(own?.runId && other?.runId);
    const answer = await q.callAs(mine.caller, 'releaseRuns', [
      { id: own._id, runId: 'stale-run-id-1' },
      { id: other._id, runId: other.runId },
      { id: waiting, runId: own.runId },
    ]);
    assert.deepEqual(answer, []);
    assert.equal((await q.mustReadJob(own._id)).status, 'running');
    assert.equal((await q.mustReadJob(other._id)).status, 'running');
  });

  test('refuses a malformed call with a 400 and writes nothing', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    await q.expectMatchFailed('releaseRuns', [{ id: 'only-an-id' }]);
    await q.expectMatchFailed('releaseRuns', 'not a list');
    await q.expectMatchFailed('releaseRuns', Array.from({ length: 1001 }, () => ({ id: 'a1234567', runId: 'b1234567' })));
  });
});
