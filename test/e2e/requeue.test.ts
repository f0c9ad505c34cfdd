// Claims bound to connections on a real server: a worker process killed mid-run has its jobs
// requeued after the grace and finished by another worker, each exactly once; a worker that
// reconnects in time keeps its runs; a server restarted on the same file requeues the runs
// of its previous life.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Job from 'meteor-job';
import type { JobDoc } from '../../shared/job-doc.ts';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const patience = { timeoutMs: 10_000 };
const requeued = "Requeued: the worker's connection was lost";

interface Run {
  id: string;
  runId: string;
}

/** Starts the claiming worker in its own process; resolves with its runs once it has claimed. */
async function claimInChild(port: number, type: string, maxJobs: number, children: ChildProcess[]): Promise<{ child: ChildProcess; runs: Run[] }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/e2e/fixtures/claiming-worker.ts', String(port), type, String(maxJobs)],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let output = '';
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const runs = await new Promise<Run[]>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((text) => text.startsWith('{'));
      if (line !== undefined && output.includes('\n')) resolve((JSON.parse(line) as { runs: Run[] }).runs);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before claiming: ${errors}`)));
  });
  return { child, runs };
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

function resultOf(message: DdpMessage): unknown {
  assert.equal(message.error, undefined, `unexpected error ${JSON.stringify(message.error)}`);
  return message.result;
}

describe('requeue of lost claims', () => {
  const servers: TestServer[] = [];
  const clients: RawDdpClient[] = [];
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) await kill(child);
    for (const client of clients.splice(0)) await client.close();
    // Newest first: a restarted server uses the file of the one before.
    for (const server of servers.splice(0).reverse()) await server.stop();
  });

  const start = async (env: Parameters<typeof startTestServer>[0]) => {
    const server = await startTestServer(env);
    servers.push(server);
    return server;
  };
  const connect = async (server: TestServer) => {
    const client = await RawDdpClient.connect(server.url, { timeoutMs: 10_000, autoPong: true });
    clients.push(client);
    return client;
  };
  const save = async (client: RawDdpClient, type: string, data: Record<string, unknown> = {}) => {
    const id = resultOf(await client.call('queue_jobSave', [new Job('queue', type, data).doc, {}]));
    assert.equal(typeof id, 'string');
    return id as string;
  };
  const getJob = async (client: RawDdpClient, id: string) => resultOf(await client.call('queue_getJob', [id, { getLog: true }])) as JobDoc;
  const statusIs = (client: RawDdpClient, id: string, status: JobDoc['status']) =>
    waitFor(async () => (await getJob(client, id)).status === status, { ...patience, description: `job ${id} ${status}` });
  const stored = async (server: TestServer, id: string) => {
    const [job] = (await server.server.contexts.get('queue')?.store.getJobs([id])) ?? [];
    assert.ok(job !== undefined, `job ${id} stored`);
    return job as JobDoc & { _private?: { claimedBy?: string } };
  };

  it('requeues the jobs of a killed worker after the grace; another worker finishes each exactly once', async () => {
    const server = await start({ CUMULUS_REQUEUE_GRACE_MS: '100' });
    const survivor = await connect(server);
    const ids = [await save(survivor, 'crash', { n: 0 }), await save(survivor, 'crash', { n: 1 }), await save(survivor, 'crash', { n: 2 })];
    const { child, runs } = await claimInChild(server.port, 'crash', 2, children);
    assert.equal(runs.length, 2);
    await kill(child);

    // The surviving worker waits for work and finishes whatever it is given, until all is done.
    const completedBy = new Map<string, string>();
    while (completedBy.size < ids.length) {
      const jobs = resultOf(await survivor.call('queue_getWork', [['crash'], { maxJobs: 3, waitMs: 30_000 }])) as JobDoc[];
      for (const job of jobs) {
        assert.equal(completedBy.has(job._id), false, `job ${job._id} handed out twice`);
        assert.equal(resultOf(await survivor.call('queue_jobDone', [job._id, job.runId, { by: 'survivor' }, {}])), true);
        completedBy.set(job._id, job.runId as string);
      }
    }

    // The killed worker's runs are stale: a late report of them is refused.
    for (const run of runs) {
      assert.equal(resultOf(await survivor.call('queue_jobDone', [run.id, run.runId, { by: 'ghost' }, {}])), false);
      assert.equal(resultOf(await survivor.call('queue_jobFail', [run.id, run.runId, { value: 'ghost' }, {}])), false);
    }
    for (const id of ids) {
      const job = await getJob(survivor, id);
      const messages = (job.log ?? []).map((entry) => entry.message);
      assert.equal(job.status, 'completed');
      assert.deepEqual(job.result, { by: 'survivor' });
      assert.equal(messages.filter((message) => message === 'Job Completed').length, 1);
      const lost = runs.some((run) => run.id === id);
      assert.equal(messages.filter((message) => message === requeued).length, lost ? 1 : 0);
      assert.equal(job.retried, lost ? 2 : 1);
      assert.equal(job.retries, 0);
    }
  });

  it('lets a worker that reconnects within the grace keep the runs it reclaims', async () => {
    const server = await start({ CUMULUS_REQUEUE_GRACE_MS: '1500' });
    const first = await connect(server);
    const kept = await save(first, 'long');
    const dropped = await save(first, 'long');
    const jobs = resultOf(await first.call('queue_getWork', [['long'], { maxJobs: 2 }])) as JobDoc[];
    const runId = jobs[0]?.runId as string;
    assert.deepEqual(jobs.map((job) => job._id), [kept, dropped]);
    await first.close();

    const again = await connect(server);
    assert.deepEqual(resultOf(await again.call('queue_reclaimRuns', [[{ id: kept, runId }]])), [kept]);
    const session = again.received.find((message) => message.msg === 'connected')?.session;
    assert.equal((await stored(server, kept))._private?.claimedBy, session);
    // The run it did not reclaim is requeued when the old connection's grace ends.
    await statusIs(again, dropped, 'ready');
    const job = await getJob(again, kept);
    assert.equal(job.status, 'running');
    assert.equal(job.runId, runId);
    assert.equal(resultOf(await again.call('queue_jobDone', [kept, runId, {}, {}])), true);
  });

  it('requeues, after the grace, the runs of a server restarted on the same file', async () => {
    const before = await start({});
    const worker = await connect(before);
    const orphan = await save(worker, 'job');
    const reclaimed = await save(worker, 'job');
    const jobs = resultOf(await worker.call('queue_getWork', [['job'], { maxJobs: 2 }])) as JobDoc[];
    assert.equal(jobs.length, 2);
    const runId = jobs[0]?.runId as string;
    await before.server.stop();
    await worker.closed;

    const after = await start({ DATABASE_URL: `sqlite:${before.databaseFile}`, CUMULUS_REQUEUE_GRACE_MS: '1500' });
    const back = await connect(after);
    assert.equal((await getJob(back, orphan)).status, 'running');
    assert.deepEqual(resultOf(await back.call('queue_reclaimRuns', [[{ id: reclaimed, runId }]])), [reclaimed]);
    await statusIs(back, orphan, 'ready');
    const requeuedJob = await getJob(back, orphan);
    assert.equal(requeuedJob.runId, null);
    assert.equal(requeuedJob.log?.filter((entry) => entry.message === requeued).length, 1);
    assert.equal(resultOf(await back.call('queue_jobDone', [orphan, runId, {}, {}])), false);
    assert.equal((await getJob(back, reclaimed)).status, 'running');
    assert.equal(resultOf(await back.call('queue_jobDone', [reclaimed, runId, {}, {}])), true);
    const [next] = resultOf(await back.call('queue_getWork', [['job'], {}])) as JobDoc[];
    assert.equal(next?._id, orphan);
  });
});
