// submit / serve / run against a real server (docs/PROTOCOL.md §7.9): Atmosphere's usage
// models — RPC, the data cascade, an error ending a chain at once, the callback in the middle,
// a timeout while the job goes on, fire-and-forget, jobs calling jobs in exclusive mode — and
// bad input refused before anything is saved.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CumulusError } from '../../shared/errors.ts';
import { connect, Job, RpcJobError, RpcTimeoutError, run, serve, submit, type Served, type Ticket } from '../../worker/index.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Gate } from './helpers/gate.ts';
import { startWorkerEnv, testConnectOptions, type WorkerEnv } from './helpers/worker-env.ts';

const patience = { timeoutMs: 10_000 };

describe('submit and serve', () => {
  let env: WorkerEnv;
  const served: Served[] = [];
  before(async () => {
    env = await startWorkerEnv();
  });
  afterEach(async () => {
    // Hard: a test that failed with a handler held must not hang its clean-up.
    for (const worker of served.splice(0)) await worker.queue.shutdown({ level: 'hard' });
  });
  after(() => env.stop());

  const track = (worker: Served): Served => {
    served.push(worker);
    return worker;
  };
  /** Every job of a type, oldest first, as the server stores them. */
  const jobsOf = async (type: string) =>
    (await env.server.server.contexts.get('queue')?.store.list({ types: [type] }, { limit: 1000, order: 'created-asc' })) ?? [];

  it('RPC: resolves with what the handler returned, a string as a string', async () => {
    track(serve({ rpcEcho: (ticket, data) => `${String(data.msg1)} ${String(data.msg2)} from ${ticket.type}/${ticket.name}` }));
    const data = await submit<string>({ type: 'rpcEcho', name: 'my first job', data: { msg1: 'Hello', msg2: 'World!' }, timeout: 30 });
    assert.equal(data, 'Hello World! from rpcEcho/my first job');
  });

  it("cascades data: job2 runs with {param2, first: job1's result}", async () => {
    const seen: Record<string, unknown>[] = [];
    track(serve({
      first: () => ({ a: 1, b: 2, c: 3 }),
      second: (_ticket, data) => {
        seen.push(data);
        return { got: data };
      },
    }));
    const job1 = { type: 'first', name: 'job1', data: { param1: 'initial message' }, timeout: 5 };
    const job2 = { type: 'second', data: { param2: 'initial message' } };
    const outcome = await submit([job1, job2]);
    assert.deepEqual(seen, [{ param2: 'initial message', first: { a: 1, b: 2, c: 3 } }]);
    assert.deepEqual(outcome, { got: { param2: 'initial message', first: { a: 1, b: 2, c: 3 } } });
  });

  it('an error in the first link rejects at once with the link and its error; the second never runs', async () => {
    let secondRan = false;
    track(serve({
      breaks: () => {
        throw new Error('no such user');
      },
      never: () => {
        secondRan = true;
      },
    }));
    const error = await submit([{ type: 'breaks', name: 'user9' }, { type: 'never' }]).then(
      () => assert.fail('the chain should fail'),
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof RpcJobError);
    assert.equal(error.type, 'breaks');
    assert.equal(error.index, 0);
    assert.equal(error.status, 'failed');
    assert.equal(error.failure?.value, 'no such user');
    assert.equal((await Job.getJob('queue', error.jobId))?.doc.status, 'failed');
    assert.equal(secondRan, false);
    assert.deepEqual(await jobsOf('never'), []);
  });

  it('callback: true in the middle resolves with that link\'s result while the chain goes on', async () => {
    const gate = new Gate();
    const finished: unknown[] = [];
    track(serve({
      early: () => ({ step: 1 }),
      late: async (_ticket, data) => {
        await gate.pass();
        finished.push(data);
        return { step: 2 };
      },
    }));
    const outcome = await submit([{ type: 'early', callback: true }, { type: 'late' }]);
    assert.deepEqual(outcome, { step: 1 });
    await waitFor(() => gate.held === 1, patience);
    gate.open();
    await waitFor(() => finished.length === 1, patience);
    assert.deepEqual(finished, [{ early: { step: 1 } }]);
    const [late] = await jobsOf('late');
    await waitFor(async () => (await Job.getJob('queue', late?._id ?? ''))?.doc.status === 'completed', patience);
  });

  it('a timeout rejects with RpcTimeoutError and the job still runs to completion', async () => {
    const gate = new Gate();
    track(serve({
      slow: async () => {
        await gate.pass();
        return { finally: true };
      },
    }));
    const started = Date.now();
    const error = await submit({ type: 'slow', timeout: 1 }).then(() => assert.fail('should time out'), (thrown: unknown) => thrown);
    const waited = Date.now() - started;
    assert.ok(error instanceof RpcTimeoutError);
    assert.equal(error.timeoutSeconds, 1);
    assert.ok(waited >= 1000 && waited < 5000, `rejected after ${waited} ms`);
    assert.equal(gate.held, 1, 'the job is still running');
    gate.open();
    const [job] = await jobsOf('slow');
    await waitFor(async () => (await Job.getJob('queue', job?._id ?? ''))?.doc.status === 'completed', patience);
    assert.deepEqual((await Job.getJob('queue', job?._id ?? ''))?.doc.result, { finally: true });
  });

  it('fire-and-forget: submit(chain, undefined) resolves once saved, and the chain completes with nothing awaited', async () => {
    const ran: string[] = [];
    track(serve({ ff1: () => ran.push('ff1'), ff2: () => ran.push('ff2') }));
    assert.equal(await submit([{ type: 'ff1' }, { type: 'ff2' }], undefined), undefined);
    await waitFor(() => ran.length === 2, patience);
    assert.deepEqual(ran, ['ff1', 'ff2']);
    assert.equal(env.server.server.contexts.get('queue')?.watcher.size, 0, 'the server watches nothing for it');
  });

  it('a node-style callback gets (null, data) or (error)', async () => {
    track(serve({ cbOk: () => 42, cbBad: () => Promise.reject(new Error('bad')) }));
    const ok = await new Promise<[Error | null, unknown]>((resolve) => submit({ type: 'cbOk' }, (error, data) => resolve([error, data])));
    assert.deepEqual(ok, [null, 42]);
    const bad = await new Promise<Error | null>((resolve) => submit({ type: 'cbBad' }, (error) => resolve(error)));
    assert.ok(bad instanceof RpcJobError);
  });

  it('run(type, params) is submit({type, data: params})', async () => {
    track(serve({ echo: (_ticket, data) => data }));
    assert.deepEqual(await run('echo', { x: 1 }), { x: 1 });
  });

  it('jobs calling jobs: three levels deep on one exclusive worker, without deadlock', async () => {
    const worker = track(serve({
      countdown: async (_ticket, data, ctx) => {
        const n = Number(data.n);
        if (n === 0) return 'bottom';
        const below = await ctx.submit<string>({ type: 'countdown', data: { n: n - 1 } });
        return `${n}>${below}`;
      },
    }));
    assert.equal(worker.queue.full(), false);
    assert.equal(await submit({ type: 'countdown', data: { n: 3 }, timeout: 30 }), '3>2>1>bottom');
    const jobs = await jobsOf('countdown');
    assert.equal(jobs.length, 4);
    const byId = new Map(jobs.map((job) => [job._id, job]));
    const depths = jobs.map((job) => {
      let depth = 0;
      for (let parent = job.parent; parent !== undefined; parent = byId.get(parent)?.parent) depth += 1;
      return depth;
    });
    assert.deepEqual(depths.sort(), [0, 1, 2, 3]);
  });

  it('exclusive mode stays one job at a time: a lent slot takes only the children it waits for', async () => {
    let running = 0;
    let most = 0;
    track(serve({
      parent: async (_ticket, data, ctx) => {
        running += 1;
        most = Math.max(most, running);
        try {
          return await ctx.submit({ type: 'child', data });
        } finally {
          running -= 1;
        }
      },
      child: (_ticket, data) => data.n,
    }));
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, n) => submit({ type: 'parent', data: { n } })));
    assert.deepEqual(outcomes, Array.from({ length: 12 }, (_, n) => n));
    assert.equal(most, 1, 'never two parents at once on an exclusive worker');
  });

  it('a soft close while a handler waits for its child finishes both', async () => {
    const gate = new Gate();
    const worker = track(serve({
      outer: async (_ticket, _data, ctx) => ({ inner: await ctx.submit({ type: 'inner2' }) }),
      inner2: async () => {
        await gate.pass();
        return 'done';
      },
    }));
    const outcome = submit({ type: 'outer' });
    await waitFor(() => gate.held === 1, patience);
    const closing = worker.close();
    gate.open();
    await closing;
    assert.deepEqual(await outcome, { inner: 'done' });
  });

  it('work a handler leaves behind (a timer) is submitted without a parent once the job ended', async () => {
    let later: Promise<unknown> | undefined;
    track(serve({
      leaves: () => {
        later = new Promise((resolve, reject) => {
          setImmediate(() => {
            submit({ type: 'orphan' }, { fireAndForget: true }).then(resolve, reject);
          });
        });
        return 'left';
      },
    }));
    assert.equal(await submit({ type: 'leaves' }), 'left');
    await later;
    const [orphan] = await jobsOf('orphan');
    assert.equal(orphan?.parent, undefined);
  });

  it('a plain submit() inside a handler is a child too', async () => {
    track(serve({
      outer: async () => ({ inner: await submit({ type: 'inner' }) }),
      inner: () => 'in',
    }));
    assert.deepEqual(await submit({ type: 'outer' }), { inner: 'in' });
    const [inner] = await jobsOf('inner');
    assert.equal(typeof inner?.parent, 'string');
  });

  it('routes to the less-loaded of two workers, and the job records who ran it', async () => {
    const gate = new Gate();
    const other = await connect(env.server.wsUrl, { ...testConnectOptions, setAsDefault: false });
    try {
      const ran: string[] = [];
      const handler = (name: string) => async (ticket: Ticket) => {
        ran.push(name);
        if (ticket.name === 'hold') await gate.pass();
        return name;
      };
      // Both on one machine: the same machine load, so only their busy slots differ.
      const machineLoad = () => 0.25;
      track(serve({ routed: handler('busy') }, { concurrency: 2, workerName: 'busy', machineLoad }));
      // The busy worker takes the first job and holds it: one of its two slots in use.
      const held = submit({ type: 'routed', name: 'hold' });
      held.catch(() => undefined);
      await waitFor(() => gate.held === 1, patience);
      track(serve({ routed: handler('idle') }, { concurrency: 2, workerName: 'idle', connection: other, machineLoad }));
      await waitFor(() => env.server.server.contexts.get('queue')?.dispatcher.waitingFor('routed') === 2, { ...patience, description: 'both workers waiting' });
      assert.equal(await submit({ type: 'routed', name: 'next' }), 'idle');
      const [, next] = await jobsOf('routed');
      assert.equal(next?.worker?.name, 'idle');
      gate.open();
      assert.equal(await held, 'busy');
    } finally {
      gate.open();
      for (const worker of served.splice(0)) await worker.queue.shutdown({ level: 'hard' });
      await other.close();
    }
  });

  it('refuses bad input before anything is saved', async () => {
    const refusals: [string, () => Promise<unknown>, RegExp][] = [
      ['no links', () => submit([]), /links: a chain needs at least one link/],
      ['a link without a type', () => submit([{ data: {} } as never]), /links\.0\.type/],
      ['a timeout that is not positive', () => submit({ type: 'x', timeout: 0 }), /links\.0\.timeout: timeout must be a positive number/],
      ['a timeout that is not a number', () => submit({ type: 'x', timeout: 'soon' as never }), /links\.0\.timeout/],
      ['two callbacks', () => submit([{ type: 'x', callback: true }, { type: 'y', callback: true }]), /links\.1\.callback: only one link/],
      ['a timeout longer than a timer holds', () => submit({ type: 'x', timeout: 30 * 24 * 3600 }), /links\.0\.timeout: timeout must be at most 2147483 seconds/],
    ];
    for (const [what, attempt, details] of refusals) {
      await assert.rejects(attempt(), (error: unknown) => error instanceof CumulusError && error.error === 400 && details.test(error.details ?? ''), what);
    }
    await assert.rejects(submit({ type: 'x', data: { callback: () => 1 } }), /links\.0\.data\.callback is a function/);
    await assert.rejects(submit({ type: 'x', data: { when: new Map() } }), /links\.0\.data\.when is a Map/);
    assert.deepEqual(await jobsOf('x'), []);
  });

  it('a result that cannot be sent fails the job with a clear error', async () => {
    track(serve({ leaky: () => ({ handle: setImmediate }) }));
    const error = await submit({ type: 'leaky' }).then(() => assert.fail('should fail'), (thrown: unknown) => thrown);
    assert.ok(error instanceof RpcJobError);
    assert.match(String(error.failure?.value), /the result of the leaky handler\.handle is a function/);
  });

  it('recursion deeper than the server allows rejects the child submission with a clear error', async () => {
    let refused: unknown;
    track(serve({
      dive: async (_ticket, data, ctx) => {
        try {
          return await ctx.submit({ type: 'dive', data: { depth: Number(data.depth) + 1 } });
        } catch (error) {
          refused ??= error;
          return { stoppedAt: data.depth };
        }
      },
    }));
    await submit({ type: 'dive', data: { depth: 0 }, timeout: 60 });
    assert.ok(refused instanceof CumulusError);
    assert.equal(refused.reason, 'Recursion too deep');
  });
});
