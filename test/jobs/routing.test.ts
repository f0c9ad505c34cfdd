/**
 * Least-loaded routing (docs/PROTOCOL.md §7.11): workers report their name, concurrency and
 * machine load with getWork; work goes to the least-loaded waiting worker, immediate claims and
 * jobDone's `next` leave work to a less-loaded waiting worker, and each job records who ran it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createJobContext, newJob, type TestConnection, type TestJobContext } from '../helpers/job-context.ts';
import { waitFor } from '../helpers/wait-for.ts';

function report(name: string, cpuLoad: number, concurrency = 1) {
  return { name, cpuLoad, concurrency };
}

async function waitingCalls(q: TestJobContext, count: number): Promise<void> {
  await waitFor(() => q.ctx.dispatcher.size === count, { description: `${count} waiting getWork calls` });
}

function park(q: TestJobContext, connection: TestConnection, type: string, worker: Record<string, unknown>) {
  return q.callAs(connection.caller, 'getWork', [type], { waitMs: 60_000, worker });
}

describe('routing', () => {
  test('the job records the worker that claimed it, by name and connection', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const id = await q.save(newJob('t'));
    const [claimed] = await q.callAs(a.caller, 'getWork', ['t'], { worker: report('host-a:123', 0.2) });
    assert.deepEqual(claimed?.worker, { name: 'host-a:123', connection: a.id });
    await q.callAs(a.caller, 'jobDone', id, claimed?.runId, {}, {});
    assert.deepEqual((await q.mustReadJob(id)).worker, { name: 'host-a:123', connection: a.id }, 'kept after the run');
  });

  test('a worker that reports nothing is named by its connection', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    await q.save(newJob('t'));
    const [claimed] = await q.callAs(a.caller, 'getWork', ['t']);
    assert.deepEqual(claimed?.worker, { name: a.id, connection: a.id });
  });

  test('of two waiting workers, the one whose machine is less loaded gets the job, whoever waited longer', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const busy = q.connect();
    const idle = q.connect();
    const busyCall = park(q, busy, 't', report('busy', 0.9));
    await waitingCalls(q, 1);
    const idleCall = park(q, idle, 't', report('idle', 0.1));
    await waitingCalls(q, 2);
    const id = await q.save(newJob('t'));
    const [job] = await idleCall;
    assert.equal(job?._id, id);
    assert.equal(job?.worker?.name, 'idle');
    busy.close();
    assert.deepEqual(await busyCall, []);
  });

  test('slots in use count: a worker running half its slots yields to an idle one on the same kind of machine', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const half = q.connect();
    const idle = q.connect();
    await q.save(newJob('other'));
    await q.callAs(half.caller, 'getWork', ['other'], { worker: report('half', 0, 2) });
    const halfCall = park(q, half, 't', report('half', 0, 2));
    await waitingCalls(q, 1);
    const idleCall = park(q, idle, 't', report('idle', 0, 2));
    await waitingCalls(q, 2);
    await q.save(newJob('t'));
    assert.equal((await idleCall)[0]?.worker?.name, 'idle');
    half.close();
    await halfCall;
  });

  test("an immediate getWork and jobDone's next leave the work to a less-loaded waiting worker", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const busy = q.connect();
    const idle = q.connect();
    await q.save(newJob('first'));
    const [running] = await q.callAs(busy.caller, 'getWork', ['first'], { worker: report('busy', 0.5) });
    const idleCall = park(q, idle, 't', report('idle', 0));
    await waitingCalls(q, 1);
    // Saved and claimed in one batch: the busy worker's calls run before the waiter hears of it.
    const saving = q.save(newJob('t'));
    const immediate = q.callAs(busy.caller, 'getWork', ['t'], { worker: report('busy', 0.5) });
    const done = q.callAs(busy.caller, 'jobDone', running?._id, running?.runId, {}, { next: { type: 't' } });
    const id = await saving;
    assert.deepEqual(await immediate, []);
    assert.deepEqual(await done, { done: true, jobs: [] });
    assert.equal((await idleCall)[0]?._id, id);
  });

  test('leaves only the types a less-loaded worker waits for, and claims the others', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const busy = q.connect();
    const idle = q.connect();
    await q.save(newJob('first'));
    await q.callAs(busy.caller, 'getWork', ['first'], { worker: report('busy', 0.5) });
    const idleCall = park(q, idle, 'a', report('idle', 0));
    await waitingCalls(q, 1);
    const b = await q.save(newJob('b'));
    const claimed = await q.callAs(busy.caller, 'getWork', ['a', 'b'], { worker: report('busy', 0.5) });
    assert.deepEqual(claimed.map((job: { _id: string }) => job._id), [b], 'b: nobody less loaded waits for it');
    const a = await q.save(newJob('a'));
    assert.equal((await idleCall)[0]?._id, a);
  });
});
