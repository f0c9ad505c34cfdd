// JobQueue never leaves an unhandled rejection behind (which would end a worker process under
// Node's defaults): a failed getWork whose errorCallback throws, and a malformed job document
// from the server, are reported, and the queue goes on asking for work. A scripted server
// answers getWork as each test needs.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { connect, Job, type CumulusConnection, type JobQueue } from '../../worker/index.ts';
import { watchProcess, type ProcessWatch } from './helpers/process-watch.ts';
import { hang, ScriptedDdpServer, type Received } from './helpers/scripted-ddp-server.ts';
import { testConnectOptions } from './helpers/worker-env.ts';

const getWorkCalls = (received: readonly Received[]) => received.filter((r) => r.message.method === 'queue_getWork').length;

describe('JobQueue errors', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A scripted server whose nth getWork (from 1) is answered by `answers[n - 1]`, later ones never. */
  const start = async (answers: unknown[]): Promise<{ server: ScriptedDdpServer; connection: CumulusConnection; watch: ProcessWatch }> => {
    let calls = 0;
    const server = await ScriptedDdpServer.start((method) => {
      if (method !== 'queue_getWork') return true;
      calls += 1;
      return calls <= answers.length ? answers[calls - 1] : hang;
    });
    cleanups.push(() => server.stop());
    const connection = await connect(server.url, { ...testConnectOptions, setAsDefault: false });
    cleanups.push(() => connection.close());
    const watch = watchProcess();
    cleanups.push(() => watch.stop());
    return { server, connection, watch };
  };
  const track = (queue: JobQueue): JobQueue => {
    cleanups.push(() => queue.shutdown({ level: 'hard' }));
    return queue;
  };

  it('warns when errorCallback throws on a failed getWork, and asks for work again', async () => {
    const { server, connection, watch } = await start([{ error: { error: 500, reason: 'store on fire' } }]);
    const reported: Error[] = [];
    let called: () => void = () => undefined;
    const errorCallbackCalled = new Promise<void>((resolve) => (called = resolve));
    const queue = track(Job.processJobs({ root: 'queue', connection }, 'x', {
      pollInterval: false,
      errorCallback: (error) => {
        reported.push(error);
        called();
        throw new Error('errorCallback broke');
      },
    }, async () => ({})));
    await errorCallbackCalled;
    assert.match(String(reported[0]?.message), /getWork\(\).*store on fire/);
    // Not stuck in the failed request: a trigger asks again.
    queue.trigger();
    await server.until((received) => getWorkCalls(received) === 2);
    assert.deepEqual(watch.unhandled, []);
    const warning = watch.warnings.find((w) => /errorCallback broke/.test(w.message));
    assert.ok(warning, 'what errorCallback threw became a process warning');
    assert.match(warning.message, /store on fire/);
    assert.equal(reported.length, 1);
  });

  it('reports a malformed job document from the server, runs the good ones, and asks for work again', async () => {
    const good = { _id: 'good-1', runId: 'run-1', type: 'x', data: { n: 1 }, status: 'running' };
    const { server, connection, watch } = await start([[{ _id: 'x' }, good]]);
    const reported: Error[] = [];
    const started: string[] = [];
    track(Job.processJobs({ root: 'queue', connection }, 'x', { waitMs: 0, pollInterval: false, prefetch: 1, errorCallback: (e) => reported.push(e) }, async (job) => {
      started.push(job.id as string);
    }));
    // Work came, so the queue asks again at once (its second request stays unanswered).
    await server.until((received) => getWorkCalls(received) === 2);
    await server.until((received) => received.some((r) => r.message.method === 'queue_jobDone'));
    assert.deepEqual(started, ['good-1']);
    assert.equal(reported.length, 1, reported.join('; '));
    assert.match(String(reported[0]?.message), /malformed job.*\(x\).*needs a type and data/);
    assert.deepEqual(watch.unhandled, []);
  });

  it('warns, when it has no errorCallback, that a malformed job came', async () => {
    const { server, connection, watch } = await start([[{ _id: 'x' }]]);
    track(Job.processJobs({ root: 'queue', connection }, 'x', { waitMs: 0, pollInterval: false }, async () => ({})));
    await server.until((received) => getWorkCalls(received) === 2);
    assert.deepEqual(watch.unhandled, []);
    assert.ok(watch.warnings.some((w) => /malformed job/.test(w.message)));
  });
});
