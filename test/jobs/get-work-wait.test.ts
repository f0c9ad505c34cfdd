/**
 * getWork with `waitMs` (a Cumulus extension): a call that finds nothing unblocks its
 * connection and waits for work of its types, woken by the feed; the least-loaded connection
 * is served first; time, a closed connection and a shutdown answer [].
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workDispatcherDefaults } from '../../server/jobs/work-dispatcher.ts';
import type { JobDoc } from '../../shared/job-doc.ts';
import { createJobContext, newJob, type TestJobContext } from '../helpers/job-context.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Long enough never to end during a test: an answer before it is the work, not the time. */
const longWait = { waitMs: 30_000 };

/** A pending call and whether it has been answered yet. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; readonly settled: boolean } {
  let settled = false;
  void promise.finally(() => (settled = true)).catch(() => undefined);
  return {
    promise,
    get settled() {
      return settled;
    },
  };
}

async function waiting(q: TestJobContext, count: number): Promise<void> {
  await waitFor(() => q.ctx.dispatcher.size === count, { description: `${count} waiting getWork calls` });
}

function ids(jobs: readonly JobDoc[]): string[] {
  return jobs.map((job) => job._id);
}

describe('getWork: waiting for work', () => {
  test('answers at once, without unblocking, when work is ready', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const id = await q.save(newJob('t'));
    assert.deepEqual(ids(await q.callAs(a.caller, 'getWork', ['t'], longWait)), [id]);
    assert.equal(a.unblocks, 0);
  });

  test('unblocks its connection, then answers when a job of its types becomes ready', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const call = q.callAs(a.caller, 'getWork', ['t'], { ...longWait, maxJobs: 2, workTimeout: 5000 });
    await waiting(q, 1);
    assert.equal(a.unblocks, 1);
    const id = await q.save(newJob('t'));
    const [job, ...more] = await call;
    assert.equal(more.length, 0);
    assert.equal(job?._id, id);
    assert.equal(job.status, 'running');
    assert.equal(job.workTimeout, 5000);
    assert.equal('_private' in job, false);
    const stored = await q.mustReadJob(id);
    assert.equal(stored.runId, job.runId);
    assert.deepEqual((stored as JobDoc & { _private?: unknown })._private, { claimedBy: a.id, server: q.ctx.serverId });
    assert.equal(q.ctx.claims.load(a.id), 1);
    assert.equal(q.ctx.dispatcher.size, 0);
  });

  test('is not woken by other types, and waits on every type it names', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const call = track(q.callAs(a.caller, 'getWork', ['x', 'y'], longWait));
    await waiting(q, 1);
    const other = await q.save(newJob('z'));
    const y = await q.save(newJob('y'));
    assert.deepEqual(ids(await call.promise), [y]);
    assert.equal((await q.mustReadJob(other)).status, 'ready');
  });

  test('finds work that became ready between its first look and its parking', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    // One group commit, the claim first: it finds nothing, and the save's wake-up comes before
    // the call has parked. Only the look it takes once parked can find the job.
    const [jobs, id] = await Promise.all([q.callAs(a.caller, 'getWork', ['t'], longWait), q.save(newJob('t'))]);
    assert.deepEqual(ids(jobs), [id]);
    assert.equal(a.unblocks, 1);
  });

  test('claims what is ready at once up to maxJobs, in priority order, under one runId', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const call = q.callAs(a.caller, 'getWork', ['t'], { ...longWait, maxJobs: 3 });
    await waiting(q, 1);
    const docs = [newJob('t', { n: 0 }).priority('low'), newJob('t', { n: 1 }).priority('high'), newJob('t', { n: 2 }), newJob('t', { n: 3 }).priority('critical')];
    const saved = await q.call('jobSaveMany', docs.map((job) => job.doc));
    const jobs = await call;
    assert.deepEqual(jobs.map((job) => job.data.n), [3, 1, 2]);
    assert.equal(new Set(jobs.map((job) => job.runId)).size, 1);
    assert.equal((await q.mustReadJob((saved as string[])[0] as string)).status, 'ready');
  });

  test('answers [] when waitMs passes', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    assert.deepEqual(await q.callAs(a.caller, 'getWork', ['t'], { waitMs: 10 }), []);
    assert.equal(q.ctx.dispatcher.size, 0);
    // What comes afterwards waits for the next call.
    const id = await q.save(newJob('t'));
    assert.equal((await q.mustReadJob(id)).status, 'ready');
  });

  test('keeps at most a bounded number of waiting calls per connection, answering the oldest []', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const b = q.connect();
    const other = track(q.callAs(b.caller, 'getWork', ['t'], longWait));
    const calls = Array.from({ length: workDispatcherDefaults.maxWaitersPerConnection + 2 }, () => track(q.callAs(a.caller, 'getWork', ['t'], longWait)));
    await waitFor(() => calls.filter((call) => call.settled).length === 2, { description: 'the two oldest answered' });
    assert.deepEqual(await calls[0]?.promise, []);
    assert.deepEqual(await calls[1]?.promise, []);
    assert.equal(q.ctx.dispatcher.size, workDispatcherDefaults.maxWaitersPerConnection + 1, "the newest stay, and the other connection's");
    assert.equal(other.settled, false);
    a.close();
    b.close();
  });

  test('answers [] when its connection closes, and claims nothing for it', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const call = q.callAs(a.caller, 'getWork', ['t'], longWait);
    await waiting(q, 1);
    a.close();
    assert.deepEqual(await call, []);
    const id = await q.save(newJob('t'));
    assert.equal((await q.mustReadJob(id)).status, 'ready');
    // A call of a connection already closed does not wait.
    assert.deepEqual(await q.callAs(a.caller, 'getWork', ['u'], longWait), []);
    assert.equal(q.ctx.dispatcher.size, 0);
  });

  test('answers [] at shutdownJobServer, and does not wait while stopped', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const b = q.connect();
    const calls = [q.callAs(a.caller, 'getWork', ['t'], longWait), q.callAs(b.caller, 'getWork', ['u'], longWait)];
    await waiting(q, 2);
    assert.equal(await q.call('shutdownJobServer', { timeout: 60_000 }), true);
    assert.deepEqual(await Promise.all(calls), [[], []]);
    await q.save(newJob('t'));
    assert.deepEqual(await q.callAs(a.caller, 'getWork', ['t'], longWait), []);
    assert.equal(q.ctx.dispatcher.size, 0);
    assert.equal(a.unblocks, 1);
  });

  test('serves the least-loaded connection first, whatever the order of arrival', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const busy = q.connect();
    const idle = q.connect();
    await q.save(newJob('t'));
    assert.equal((await q.callAs(busy.caller, 'getWork', ['t'])).length, 1);
    const busyCall = track(q.callAs(busy.caller, 'getWork', ['t'], longWait));
    await waiting(q, 1);
    const idleCall = q.callAs(idle.caller, 'getWork', ['t'], longWait);
    await waiting(q, 2);
    const first = await q.save(newJob('t'));
    assert.deepEqual(ids(await idleCall), [first]);
    assert.equal(busyCall.settled, false);
    const second = await q.save(newJob('t'));
    assert.deepEqual(ids(await busyCall.promise), [second]);
  });

  test('among equally loaded connections, the one waiting longest first; each job goes to one', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const connections = [q.connect(), q.connect(), q.connect()];
    const calls = connections.map((connection) => q.callAs(connection.caller, 'getWork', ['t'], longWait));
    await waiting(q, 3);
    const saved: string[] = [];
    for (let i = 0; i < 3; i += 1) saved.push(await q.save(newJob('t', { i })));
    assert.deepEqual((await Promise.all(calls)).map(ids), saved.map((id) => [id]));
  });
});
