// The worker library's connection: promise calls with their own bookkeeping, DisconnectedError
// instead of simpleddp's hang, reconnect with backoff, login before anything else after a
// reconnect, completions retried without doing their work twice.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  connect, ConnectionClosedError, CumulusConnection, CumulusError, DisconnectedError, Job, type JobDoc,
} from '../../worker/index.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { hang, ScriptedDdpServer } from './helpers/scripted-ddp-server.ts';
import { startWorkerEnv, testConnectOptions, type WorkerEnv } from './helpers/worker-env.ts';

const tokens = { admin: 'admin-secret-1', worker: 'worker-secret-1' };
const tokenEnv = { CUMULUS_TOKENS: `admin:${tokens.admin},worker:${tokens.worker}` };
const loginAnswer = { id: 'user-1', token: 't', tokenExpires: new Date(8640000000000000), type: 'resume' };

describe('CumulusConnection', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const track = <T extends { stop(): Promise<void> } | CumulusConnection>(thing: T): T => {
    cleanups.push(() => (thing instanceof CumulusConnection ? thing.close() : thing.stop()));
    return thing;
  };
  const env = async (vars = {}, options = {}): Promise<WorkerEnv> => track(await startWorkerEnv(vars, options));

  it('calls methods as promises and rejects a method error with its Meteor code', async () => {
    const { connection, server } = await env();
    assert.equal(connection.state, 'ready');
    assert.equal(connection.endpoint, server.wsUrl);
    assert.deepEqual(await connection.call('queue_getWork', ['nothing'], { maxJobs: 2 }), []);
    assert.equal(await connection.apply('queue_getJob', ['missing']), null);
    await assert.rejects(connection.call('queue_noSuchMethod'), (error: unknown) => {
      assert.ok(error instanceof CumulusError);
      assert.equal(error.error, 404);
      assert.equal(error.reason, "Method 'queue_noSuchMethod' not found");
      return true;
    });
  });

  it('accepts the server address as http://host:port', async () => {
    const { server } = await env();
    const connection = track(await connect(server.url, { ...testConnectOptions, setAsDefault: false }));
    assert.equal(connection.endpoint, server.wsUrl);
    assert.deepEqual(await connection.call('queue_getWork', ['x'], {}), []);
  });

  it('logs in with a token; a refused token fails connect()', async () => {
    const { server } = await env(tokenEnv, { token: tokens.worker });
    const worker = track(await connect(server.wsUrl, { ...testConnectOptions, token: tokens.worker, setAsDefault: false }));
    assert.equal(worker.userId, 'worker');
    assert.deepEqual(await worker.call('queue_getWork', ['x'], {}), []);
    await assert.rejects(worker.call('queue_jobSave', new Job('queue', 'x', {}).doc), { error: 403 });
    const anonymous = track(await connect(server.wsUrl, { ...testConnectOptions, setAsDefault: false }));
    await assert.rejects(anonymous.call('queue_getWork', ['x'], {}), { error: 403 });
    await assert.rejects(connect(server.wsUrl, { ...testConnectOptions, token: 'wrong-token', setAsDefault: false }), { error: 403 });
  });

  it('gives up connecting after connectTimeoutMs', async () => {
    const scripted = track(await ScriptedDdpServer.start());
    const url = scripted.url;
    await scripted.stop();
    await assert.rejects(connect(url, { ...testConnectOptions, connectTimeoutMs: 150 }), /Could not connect/);
  });

  it('rejects calls pending at a disconnect, then logs in again before anything else', async () => {
    const scripted = track(await ScriptedDdpServer.start((method, _params, socket) => {
      if (method === 'login') return loginAnswer;
      if (method === 'slow') return socket === 1 ? hang : 'late';
      return 'ok';
    }));
    const connection = track(await connect(scripted.url, { ...testConnectOptions, token: 'secret', setAsDefault: false }));
    let reconnects = 0;
    let disconnects = 0;
    connection.onReconnect(() => (reconnects += 1));
    connection.onDisconnect(() => (disconnects += 1));

    const pending = connection.call('slow');
    await scripted.until((r) => r.some((m) => m.message.method === 'slow'));
    scripted.dropAll();
    await assert.rejects(pending, (error: unknown) => error instanceof DisconnectedError && error.method === 'slow');
    // Made while the connection is down: waits, unsent, for the next login.
    const waiting = connection.call('queued', 1);
    await connection.whenReady();
    assert.equal(await waiting, 'ok');
    assert.deepEqual(scripted.methods(), [[1, 'login'], [1, 'slow'], [2, 'login'], [2, 'queued']]);
    const relogin = scripted.received.find((r) => r.socket === 2 && r.message.method === 'login');
    assert.deepEqual(relogin?.message.params, [{ resume: 'secret' }]);
    assert.equal(reconnects, 1);
    assert.equal(disconnects, 1);
    assert.equal(connection.userId, 'user-1');
  });

  it('reports a token refused after a reconnect and carries on logged out', async () => {
    const refused = { error: 403, reason: "You've been logged out by the server. Please log in again." };
    const scripted = track(await ScriptedDdpServer.start((method, _params, socket) => {
      if (method === 'login') return socket === 1 ? loginAnswer : { error: refused };
      return 'ok';
    }));
    const errors: Error[] = [];
    const connection = track(await connect(scripted.url, { ...testConnectOptions, token: 'revoked-later', setAsDefault: false, onError: (e) => errors.push(e) }));
    assert.equal(connection.userId, 'user-1');
    scripted.dropAll();
    await waitFor(() => errors.length === 1 && connection.connected, { description: 'the refused login reported' });
    assert.ok(errors[0] instanceof CumulusError && errors[0].error === 403);
    assert.equal(connection.userId, null);
    assert.equal(await connection.call('anything'), 'ok');
  });

  it('closes: pending and waiting calls reject with ConnectionClosedError, nothing reconnects', async () => {
    const scripted = track(await ScriptedDdpServer.start(() => hang));
    const connection = await connect(scripted.url, { ...testConnectOptions, setAsDefault: false });
    const pending = connection.call('forever');
    await scripted.until((r) => r.some((m) => m.message.method === 'forever'));
    const rejected = assert.rejects(pending, ConnectionClosedError);
    await connection.close();
    await rejected;
    await assert.rejects(connection.call('after'), ConnectionClosedError);
    await assert.rejects(connection.whenReady(), ConnectionClosedError);
    assert.equal(connection.state, 'closed');
    assert.equal(scripted.connections, 1);
  });

  it('cuts a connection whose server went silent (heartbeat) and reconnects', async () => {
    const scripted = track(await ScriptedDdpServer.start());
    scripted.answerPings = false;
    const connection = track(await connect(scripted.url, { ...testConnectOptions, heartbeatMs: 30, setAsDefault: false }));
    await waitFor(() => scripted.connections >= 2, { description: 'a second connection' });
    assert.ok(scripted.received.some((r) => r.socket === 1 && r.message.msg === 'ping'));
    assert.notEqual(connection.state, 'closed');
  });

  it('reports a subscription the server refuses through its own promise, not an unhandled rejection', async () => {
    const { server } = await env(tokenEnv, { token: tokens.admin });
    const anonymous = track(await connect(server.wsUrl, { ...testConnectOptions, setAsDefault: false }));
    const subscription = anonymous.subscribe('queue.jobs', {});
    await assert.rejects(subscription.ready, { error: 403 });
  });

  describe('completions whose answer was lost', () => {
    const running = { _id: 'job-1', runId: 'run-1', type: 't', data: {}, status: 'running' } as const;

    const scriptedJob = async (script: (method: string, params: unknown[], socket: number) => unknown) => {
      const scripted = track(await ScriptedDdpServer.start((method, params, socket) => script(method, params, socket) ?? true));
      const connection = track(await connect(scripted.url, { ...testConnectOptions, setAsDefault: false }));
      const job = new Job({ root: 'queue', connection }, { ...running } as unknown as JobDoc);
      return { scripted, job };
    };
    const dropAfter = async (scripted: ScriptedDdpServer, method: string) => {
      await scripted.until((r) => r.some((m) => m.message.method === method));
      scripted.dropAll();
    };

    it('a retried jobDone answered false had landed when the job is completed with that runId', async () => {
      const { scripted, job } = await scriptedJob((method, _params, socket) => {
        if (method === 'queue_jobDone') return socket === 1 ? hang : false;
        if (method === 'queue_getJob') return { ...running, status: 'completed' };
        return undefined;
      });
      const done = job.done({ sum: 3 });
      await dropAfter(scripted, 'queue_jobDone');
      assert.equal(await done, true);
      assert.deepEqual(scripted.methods(), [[1, 'queue_jobDone'], [2, 'queue_jobDone'], [2, 'queue_getJob']]);
      const retry = scripted.received.filter((r) => r.message.method === 'queue_jobDone')[1];
      assert.deepEqual(retry?.message.params, ['job-1', 'run-1', { sum: 3 }, {}]);
    });

    it('a retried jobDone answered false had not landed when another run holds the job', async () => {
      const { scripted, job } = await scriptedJob((method, _params, socket) => {
        if (method === 'queue_jobDone') return socket === 1 ? hang : false;
        if (method === 'queue_getJob') return { ...running, runId: 'run-2' };
        return undefined;
      });
      const done = job.done();
      await dropAfter(scripted, 'queue_jobDone');
      assert.equal(await done, false);
    });

    it('a retried jobFail answered false had landed when the failures hold its runId', async () => {
      const { scripted, job } = await scriptedJob((method, params, socket) => {
        if (method === 'queue_jobFail') return socket === 1 ? hang : false;
        if (method === 'queue_getJob') {
          assert.deepEqual(params, ['job-1', { getFailures: true }]);
          return { ...running, status: 'waiting', runId: null, failures: [{ value: 'boom', runId: 'run-1' }] };
        }
        return undefined;
      });
      const failed = job.fail('boom');
      await dropAfter(scripted, 'queue_jobFail');
      assert.equal(await failed, true);
    });

    it('a jobLog that had landed is not written twice', async () => {
      const { scripted, job } = await scriptedJob((method, _params, socket) => {
        if (method === 'queue_jobLog') return socket === 1 ? hang : true;
        if (method === 'queue_getJob') return { ...running, log: [{ time: new Date(), runId: 'run-1', level: 'info', message: 'step 1' }] };
        return undefined;
      });
      const logged = job.log('step 1');
      await dropAfter(scripted, 'queue_jobLog');
      assert.equal(await logged, true);
      assert.deepEqual(scripted.methods(), [[1, 'queue_jobLog'], [2, 'queue_getJob']]);
    });

    it('a jobProgress is simply sent again', async () => {
      const { scripted, job } = await scriptedJob((method, _params, socket) => (method === 'queue_jobProgress' && socket === 1 ? hang : undefined));
      const progress = job.progress(1, 4);
      await dropAfter(scripted, 'queue_jobProgress');
      assert.equal(await progress, true);
      assert.deepEqual(job.doc.progress, { completed: 1, total: 4, percent: 25 });
      assert.deepEqual(scripted.methods(), [[1, 'queue_jobProgress'], [2, 'queue_jobProgress']]);
    });

    it('against a real server: a done sent just before the socket drops completes the job once', async () => {
      const { connection } = await env();
      const id = await new Job('queue', 'drop', {}).save();
      const job = await Job.getWork('queue', 'drop');
      assert.ok(job);
      const done = job.done({ ok: true });
      connection.reconnect();
      assert.equal(await done, true);
      const stored = await Job.getJob('queue', id as string, { getLog: true });
      assert.equal(stored?.doc.status, 'completed');
      assert.deepEqual(stored?.doc.result, { ok: true });
      assert.equal(stored?.doc.log?.filter((e) => e.message === 'Job Completed').length, 1);
    });
  });
});
