// A server restarted under a running worker: the worker reconnects, logs in again, takes its
// runs back (so the restarted server does not requeue them), finishes, and every job is
// completed exactly once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect, Job } from '../../worker/index.ts';
import { startTestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { errorSink, testConnectOptions } from './helpers/worker-env.ts';

const tokens = { admin: 'admin-secret-1', worker: 'worker-secret-1' };
const env = { CUMULUS_TOKENS: `admin:${tokens.admin},worker:${tokens.worker}`, CUMULUS_SHUTDOWN_GRACE_MS: '200' };
const patience = { timeoutMs: 15_000 };

describe('a worker across a server restart', () => {
  it('reconnects, logs in again, reclaims its runs and completes every job exactly once', async () => {
    const first = await startTestServer(env);
    const admin = await connect(first.wsUrl, { ...testConnectOptions, token: tokens.admin });
    const worker = await connect(first.wsUrl, { ...testConnectOptions, token: tokens.worker, setAsDefault: false });
    const sink = errorSink();
    let second: Awaited<ReturnType<typeof startTestServer>> | undefined;
    const held: (() => void)[] = [];
    const starts: string[] = [];
    try {
      const ids = (await Job.saveMany('queue', Array.from({ length: 9 }, (_, i) => new Job('queue', 'restart', { i })))) as string[];
      // A run whose worker never comes back: the restarted server requeues it after its grace.
      const controlId = (await new Job('queue', 'restart-control', {}).save()) as string;
      const bystander = await connect(first.wsUrl, { ...testConnectOptions, token: tokens.worker, setAsDefault: false });
      assert.equal((await Job.getWork({ root: 'queue', connection: bystander }, 'restart-control'))?.id, controlId);
      await bystander.close();

      let reconnects = 0;
      worker.onReconnect(() => (reconnects += 1));
      const queue = Job.processJobs({ root: 'queue', connection: worker }, 'restart', { concurrency: 3, errorCallback: sink.report }, async (job) => {
        starts.push(job.id as string);
        await new Promise<void>((resolve) => held.push(resolve));
        return { i: job.data.i };
      });
      await waitFor(() => held.length === 3, patience);
      const runningAtStop = [...starts];

      await first.server.stop();
      await waitFor(() => worker.state !== 'ready', patience);
      second = await startTestServer({ ...env, PORT: String(first.port), DATABASE_URL: `sqlite:${first.databaseFile}`, CUMULUS_REQUEUE_GRACE_MS: '1000' });
      await waitFor(() => worker.connected && reconnects === 1, patience);
      assert.equal(worker.userId, 'worker', 'logged in again');

      // Once the restarted server has swept the orphaned runs, ours must still be running.
      const status = async (id: string) => (await Job.getJob('queue', id))?.doc.status;
      await waitFor(async () => (await status(controlId)) !== 'running', patience);
      for (const id of runningAtStop) assert.equal(await status(id), 'running', `run ${id} was reclaimed`);

      await waitFor(async () => {
        for (const release of held.splice(0)) release();
        return (await Job.getJobs('queue', ids)).every((job) => job.doc.status === 'completed');
      }, patience);
      await queue.shutdown({ level: 'soft' });

      assert.deepEqual([...starts].sort(), [...ids].sort(), 'every job ran exactly once');
      for (const id of ids) {
        const job = await Job.getJob('queue', id, { getLog: true });
        assert.equal(job?.doc.log?.filter((e) => e.message === 'Job Completed').length, 1, `job ${id} completed once`);
        assert.equal(job?.doc.retried, 1, `job ${id} was claimed once`);
      }
      assert.deepEqual(sink.errors, []);
    } finally {
      for (const release of held.splice(0)) release();
      await worker.close();
      await admin.close();
      await second?.stop();
      // Stopped already in the test; this also removes its directory (and the database in it).
      await first.stop();
    }
  });

  it('drops the runs the server no longer has running for it, and never reports them', async () => {
    const server = await startTestServer();
    const admin = await connect(server.wsUrl, testConnectOptions);
    const worker = await connect(server.wsUrl, { ...testConnectOptions, setAsDefault: false });
    const sink = errorSink();
    const held: (() => void)[] = [];
    const started: string[] = [];
    const reported: string[] = [];
    try {
      const ids = (await Job.saveMany('queue', Array.from({ length: 3 }, (_, i) => new Job('queue', 'dropped', { i })))) as string[];
      const apply = worker.apply.bind(worker);
      worker.apply = ((method: string, params: unknown[]) => {
        if (method === 'queue_jobDone' || method === 'queue_jobFail') reported.push(params[0] as string);
        return apply(method, params);
      }) as typeof worker.apply;
      const queue = Job.processJobs({ root: 'queue', connection: worker }, 'dropped', { prefetch: 2, errorCallback: sink.report }, async (job) => {
        started.push(job.id as string);
        await new Promise<void>((resolve) => held.push(resolve));
      });
      await waitFor(() => held.length === 1 && queue.length() === 2, patience);
      // An admin cancels everything the worker holds; the worker learns of it when it reconnects.
      assert.equal(await Job.cancelJobs('queue', ids), true);
      let reconnected = false;
      worker.onReconnect(() => (reconnected = true));
      worker.reconnect();
      await waitFor(() => reconnected && queue.length() === 0, patience);
      for (const release of held.splice(0)) release();
      await queue.onIdle();
      await queue.shutdown();
      assert.equal(started.length, 1, 'the prefetched runs were dropped, not started');
      assert.deepEqual(reported, [], 'nothing reported for runs the server no longer has');
      assert.deepEqual((await Job.getJobs('queue', ids)).map((job) => job.doc.status), ['cancelled', 'cancelled', 'cancelled']);
      assert.deepEqual(sink.errors, []);
    } finally {
      for (const release of held.splice(0)) release();
      await worker.close();
      await admin.close();
      await server.stop();
    }
  });
});
