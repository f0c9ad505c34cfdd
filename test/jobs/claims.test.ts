/**
 * Claims bound to connections: the claiming connection is remembered server-side, a lost
 * connection's running jobs are requeued after the grace, a reconnected worker keeps the runs
 * it reclaims, and a restarted server requeues the orphans of its previous run.
 */
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { storeFeed } from '../../server/feed/job-feed.ts';
import { reclaimRuns } from '../../server/jobs/claims.ts';
import { createCollectionRuntime } from '../../server/jobs/index.ts';
import { createLogger } from '../../server/logger.ts';
import type { JobDoc } from '../../shared/job-doc.ts';
import { createJobContext, lastLog, logMessages, newJob, type TestConnection, type TestJobContext } from '../helpers/job-context.ts';
import { waitFor } from '../helpers/wait-for.ts';

type Run = { id: string; runId: string };

/** Saves a job of `type` and claims it for the connection. */
async function claimFor(q: TestJobContext, connection: TestConnection, type = 't', options: Record<string, unknown> = {}): Promise<Run> {
  const id = await q.save(newJob(type));
  const [job] = await q.callAs(connection.caller, 'getWork', [type], options);
  assert.equal(job?._id, id);
  return { id, runId: job.runId as string };
}

function claimedBy(job: JobDoc): string | undefined {
  return (job as JobDoc & { _private?: { claimedBy?: string } })._private?.claimedBy;
}

async function waitForStatus(q: TestJobContext, id: string, status: JobDoc['status']): Promise<void> {
  await waitFor(async () => (await q.mustReadJob(id)).status === status, { description: `job ${id} ${status}` });
}

describe('claims: binding', () => {
  test("getWork remembers the claiming connection server-side, never in an answer", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const id = await q.save(newJob('t'));
    const [answer] = await q.callAs(a.caller, 'getWork', ['t']);
    assert.ok(answer !== undefined);
    assert.equal('_private' in answer, false);
    assert.equal(claimedBy(await q.mustReadJob(id)), a.id);
    const viaGetJob = await q.call('getJob', id, { getLog: true, getFailures: true });
    assert.ok(viaGetJob !== null && !Array.isArray(viaGetJob));
    assert.equal('_private' in viaGetJob, false);
  });

  test("the server's own claims are bound to no connection", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t'));
    await q.claim('t');
    assert.equal('_private' in (await q.mustReadJob(id)), false);
  });

  test('done, fail and cancel clear the claim', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const done = await claimFor(q, a);
    const failed = await claimFor(q, a);
    const cancelled = await claimFor(q, a);
    assert.equal(await q.callAs(a.caller, 'jobDone', done.id, done.runId, {}), true);
    assert.equal(await q.callAs(a.caller, 'jobFail', failed.id, failed.runId, { value: 'x' }), true);
    assert.equal(await q.call('jobCancel', cancelled.id), true);
    for (const id of [done.id, failed.id, cancelled.id]) assert.equal('_private' in (await q.mustReadJob(id)), false);
  });

  test('the next repeat of a claimed job starts unclaimed', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const id = await q.save(newJob('rep').repeat({ repeats: 1, wait: 0 }));
    const [job] = await q.callAs(a.caller, 'getWork', ['rep']);
    assert.equal(job?._id, id);
    const repeatId = await q.callAs(a.caller, 'jobDone', id, job.runId as string, {}, { repeatId: true });
    assert.equal(typeof repeatId, 'string');
    assert.equal('_private' in (await q.mustReadJob(repeatId as string)), false);
  });

  test("counts each connection's running jobs, following them as they finish", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const b = q.connect();
    const runs = [await claimFor(q, a), await claimFor(q, a), await claimFor(q, a)];
    await claimFor(q, b);
    assert.equal(q.ctx.claims.load(a.id), 3);
    assert.equal(q.ctx.claims.load(b.id), 1);
    const [first, second, third] = runs as [Run, Run, Run];
    await q.callAs(a.caller, 'jobDone', first.id, first.runId, {});
    assert.equal(q.ctx.claims.load(a.id), 2);
    await q.callAs(a.caller, 'jobFail', second.id, second.runId, {});
    assert.equal(q.ctx.claims.load(a.id), 1);
    await q.call('jobCancel', third.id);
    assert.equal(q.ctx.claims.load(a.id), 0);
    assert.equal(q.ctx.claims.load(b.id), 1);
  });

  test('a job claimed and cancelled in the same commit is not counted', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const id = await q.save(newJob('t'));
    // Both calls join one group commit, the claim first: the feed only sees ready → cancelled.
    const [claimed, cancelled] = await Promise.all([q.callAs(a.caller, 'getWork', ['t']), q.call('jobCancel', id)]);
    assert.equal(claimed.length, 1);
    assert.equal(cancelled, true);
    assert.equal(q.ctx.claims.load(a.id), 0);
  });
});

describe('claims: requeue of a lost connection', () => {
  test('after the grace its running jobs are ready again, with the lost attempt given back', async (t) => {
    const q = await createJobContext({ requeueGraceMs: 20 });
    t.after(() => q.close());
    const a = q.connect();
    const b = q.connect();
    const id = await q.save(newJob('t').retry(2));
    const [claimed] = await q.callAs(a.caller, 'getWork', ['t'], { workTimeout: 60_000 });
    assert.ok(claimed?.runId);
    await q.callAs(a.caller, 'jobProgress', id, claimed.runId, 1, 2);
    const other = await claimFor(q, b, 'other');
    const before = await q.mustReadJob(id);
    a.close();
    await waitForStatus(q, id, 'ready');
    const job = await q.mustReadJob(id);
    assert.equal(job.runId, null);
    assert.equal(job.retries, before.retries + 1);
    assert.equal(job.retried, before.retried);
    assert.equal('workTimeout' in job, false);
    assert.equal('expiresAfter' in job, false);
    assert.equal('_private' in job, false);
    assert.deepEqual(job.progress, { completed: 0, total: 1, percent: 0 });
    const requeued = job.log?.find((entry) => entry.message === "Requeued: the worker's connection was lost");
    assert.deepEqual(requeued && { level: requeued.level, runId: requeued.runId }, { level: 'warning', runId: claimed.runId });
    assert.equal(lastLog(job).message, 'Promoted to ready');
    assert.equal(q.ctx.claims.load(a.id), 0);
    // A late report of the lost run is refused; another worker gets the job.
    assert.equal(await q.callAs(a.caller, 'jobDone', id, claimed.runId, {}), false);
    const [again] = await q.callAs(b.caller, 'getWork', ['t']);
    assert.equal(again?._id, id);
    assert.notEqual(again.runId, claimed.runId);
    // The other connection's job was left alone.
    assert.equal((await q.mustReadJob(other.id)).status, 'running');
  });

  test('jobs it finished before its connection closed are not touched', async (t) => {
    const q = await createJobContext({ requeueGraceMs: 20 });
    t.after(() => q.close());
    const a = q.connect();
    const done = await claimFor(q, a);
    const lost = await claimFor(q, a);
    await q.callAs(a.caller, 'jobDone', done.id, done.runId, {});
    const completed = await q.mustReadJob(done.id);
    a.close();
    await waitForStatus(q, lost.id, 'ready');
    assert.deepEqual(await q.mustReadJob(done.id), completed);
  });

  test('a job that cannot be promoted yet waits, and its lost run is still refused', async (t) => {
    const q = await createJobContext({ requeueGraceMs: 20 });
    t.after(() => q.close());
    const a = q.connect();
    const id = await q.save(newJob('t').delay(60_000));
    // Promoted ahead of its time, as a jobReady of all jobs with a future `time` does.
    await q.call('jobReady', [], { time: new Date(q.clock.now().getTime() + 120_000) });
    const [claimed] = await q.callAs(a.caller, 'getWork', ['t']);
    assert.ok(claimed?.runId);
    a.close();
    await waitForStatus(q, id, 'waiting');
    assert.deepEqual(logMessages(await q.mustReadJob(id)).slice(-2), ['Job Running', "Requeued: the worker's connection was lost"]);
    assert.equal(await q.call('jobFail', id, claimed.runId, {}), false);
  });

  test('a reconnected worker that reclaims its runs within the grace keeps them', async (t) => {
    const q = await createJobContext({ requeueGraceMs: 50 });
    t.after(() => q.close());
    const a = q.connect();
    const kept = await claimFor(q, a);
    const dropped = await claimFor(q, a);
    a.close();
    const a2 = q.connect();
    const answer = await q.callAs(a2.caller, 'reclaimRuns', [kept, { id: dropped.id, runId: 'StaleRunIdXXXXXXX' }, { id: 'NoSuchJobXXXXXXXX', runId: kept.runId }]);
    assert.deepEqual(answer, [kept.id]);
    assert.equal(claimedBy(await q.mustReadJob(kept.id)), a2.id);
    assert.equal(q.ctx.claims.load(a2.id), 1);
    // The job it did not reclaim shows the old connection's grace has ended.
    await waitForStatus(q, dropped.id, 'ready');
    const job = await q.mustReadJob(kept.id);
    assert.equal(job.status, 'running');
    assert.equal(job.runId, kept.runId);
    assert.equal(await q.callAs(a2.caller, 'jobDone', kept.id, kept.runId, {}), true);
    assert.equal(q.ctx.claims.load(a2.id), 0);
  });

  test('reclaimRuns answers only the runs still running', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const run = await claimFor(q, a);
    const finished = await claimFor(q, a);
    await q.callAs(a.caller, 'jobDone', finished.id, finished.runId, {});
    assert.deepEqual(await q.callAs(a.caller, 'reclaimRuns', [run, run, finished]), [run.id]);
    assert.deepEqual(await q.call('reclaimRuns', [run]), [run.id]);
    assert.deepEqual(await q.call('reclaimRuns', []), []);
    // The server's own call binds nothing.
    assert.equal(claimedBy(await q.mustReadJob(run.id)), a.id);
  });
});

describe('claims: races at the close of a connection', () => {
  test('with no grace, a claim that commits after the requeue check is requeued all the same', async (t) => {
    const q = await createJobContext({ requeueGraceMs: 0 });
    t.after(() => q.close());
    const a = q.connect();
    const id = await q.save(newJob('t'));
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    // The getWork is under way when the connection closes, and the requeue check (grace 0) runs
    // before the claim commits, so the check finds nothing counted yet.
    const claiming = q.callAs(a.caller, 'getWork', ['t']);
    a.close();
    mock.timers.tick(1);
    mock.timers.reset();
    const [claimed] = await claiming;
    assert.equal(claimed?._id, id, 'the claim itself went through; its answer only never reached the worker');
    await waitForStatus(q, id, 'ready');
    const job = await q.mustReadJob(id);
    assert.equal(job.runId, null);
    assert.equal(job.retries, 1, 'the lost attempt is given back');
    assert.ok(logMessages(job).includes("Requeued: the worker's connection was lost"));
    assert.equal(q.ctx.claims.load(a.id), 0);
  });

  test("a waiting getWork's claim that lands after its connection closed is given back at once, not after the grace", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const waiting = q.callAs(a.caller, 'getWork', ['t'], { waitMs: 60_000 });
    await waitFor(() => q.ctx.dispatcher.size === 1, { description: 'the getWork waiting' });
    // Its commit wakes the waiter, whose claim is queued before the save answers…
    const id = await q.save(newJob('t'));
    // …and the connection closes while that claim is in flight.
    a.close();
    const [claimed] = await waiting;
    assert.equal(claimed?._id, id);
    // The default grace is 10 s; waitFor gives up after 2.
    await waitForStatus(q, id, 'ready');
    assert.equal((await q.mustReadJob(id)).runId, null);
    assert.equal(q.ctx.claims.load(a.id), 0);
  });
});

describe('claims: at start', () => {
  test("after the grace, requeues the running jobs of a previous run, except those its workers took back", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const previous = q.connect();
    const returning = q.connect();
    const orphan = await claimFor(q, previous);
    const taken = await claimFor(q, returning);
    const unbound = await q.save(newJob('t'));
    await q.claim('t');
    // A server starting on this store: a new run, with an id of its own.
    const restarted = createCollectionRuntime(
      { root: q.ctx.root, store: q.store, feed: storeFeed(q.store), logger: createLogger('silent') },
      { requeueGraceMs: 1000, scheduler: false },
    );
    t.after(() => restarted.stop());
    restarted.start();
    // One worker reconnects to it within the grace and takes its run back.
    const reconnected = { connectionId: 'reconnected', unblock: () => undefined };
    restarted.connectionOpened(reconnected.connectionId);
    assert.deepEqual(await reclaimRuns(restarted.ctx, [[taken]], reconnected), [taken.id]);
    await waitFor(async () => (await q.mustReadJob(orphan.id)).status === 'ready', { timeoutMs: 10_000, description: 'the orphan requeued' });
    const kept = await q.mustReadJob(taken.id);
    assert.equal(kept.status, 'running');
    assert.equal(kept.runId, taken.runId);
    // Claims bound to no connection are left to workTimeout.
    assert.equal((await q.mustReadJob(unbound)).status, 'running');
  });
});
