// submit and serve through faults (docs/PROTOCOL.md §7.9, §7.10): a worker killed in the middle
// of a chain (the link is requeued and the chain completes), a caller whose connection drops
// before the chain ends (it still gets the outcome), and saves whose answer is lost (retried
// without saving twice).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, Job, serve, submit, type CumulusConnection, type Served } from '../../worker/index.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Gate } from './helpers/gate.ts';
import { startWorkerEnv, testConnectOptions, type WorkerEnv } from './helpers/worker-env.ts';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const patience = { timeoutMs: 10_000 };

/** Starts a worker process whose handler never finishes; resolves once it runs a job. */
function hangingWorker(url: string, type: string, children: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/worker/fixtures/hanging-handler.ts', url, type], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((text) => text.startsWith('{'));
      if (line !== undefined) resolve((JSON.parse(line) as { running: string }).running);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before running a job: ${errors}`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return exited;
}

describe('submit and serve through faults', () => {
  let env: WorkerEnv;
  const served: Served[] = [];
  const children: ChildProcess[] = [];
  const connections: CumulusConnection[] = [];
  before(async () => {
    env = await startWorkerEnv({ CUMULUS_REQUEUE_GRACE_MS: '100' });
  });
  afterEach(async () => {
    // Hard: a test that failed with a handler held must not hang its clean-up.
    for (const worker of served.splice(0)) await worker.queue.shutdown({ level: 'hard' });
    for (const child of children.splice(0)) await kill(child);
    for (const connection of connections.splice(0)) await connection.close();
  });
  after(() => env.stop());

  const otherConnection = async () => {
    const connection = await connect(env.server.wsUrl, { ...testConnectOptions, setAsDefault: false });
    connections.push(connection);
    return connection;
  };

  it('a worker killed in the middle of a chain: its link is requeued, another worker finishes the chain', async () => {
    served.push(serve({ before: () => ({ n: 1 }) }));
    const outcome = submit([{ type: 'before' }, { type: 'fragile', data: { x: 1 } }, { type: 'after' }], { root: 'queue' });
    const running = await hangingWorker(env.server.url, 'fragile', children);
    const [child] = children;
    assert.ok(child !== undefined);
    await kill(child);
    served.push(serve({ fragile: (_ticket, data) => ({ sawBefore: data.before }), after: (_ticket, data) => data }));
    assert.deepEqual(await outcome, { fragile: { sawBefore: { n: 1 } } });
    const job = await Job.getJob('queue', running, { getLog: true });
    assert.equal(job?.doc.status, 'completed');
    assert.ok(job?.doc.log?.some((entry) => entry.message === "Requeued: the worker's connection was lost"));
  });

  it('a caller whose connection drops before the chain ends still gets the outcome', async () => {
    const gate = new Gate();
    served.push(serve({ awaited: async () => {
      await gate.pass();
      return 'worth the wait';
    } }));
    const caller = await otherConnection();
    const outcome = submit<string>({ type: 'awaited' }, { connection: caller });
    await waitFor(() => gate.held === 1, patience);
    caller.reconnect();
    await waitFor(() => caller.state !== 'ready', patience);
    await caller.whenReady();
    gate.open();
    assert.equal(await outcome, 'worth the wait');
  });

  it('an outcome that settles while the caller is disconnected arrives after it reconnects', async () => {
    const gate = new Gate();
    served.push(serve({ meanwhile: async () => {
      await gate.pass();
      return 'settled while away';
    } }));
    const caller = await otherConnection();
    const outcome = submit<string>({ type: 'meanwhile' }, { connection: caller });
    await waitFor(() => gate.held === 1, patience);
    const server = env.server.server.contexts.get('queue');
    caller.reconnect();
    await waitFor(() => caller.state !== 'ready', patience);
    gate.open();
    await waitFor(async () => (await server?.store.list({ types: ['meanwhile'], statuses: ['completed'] }, { limit: 1, order: 'created-asc' }))?.length === 1, patience);
    assert.equal(await outcome, 'settled while away');
  });

  it('saves whose answers are lost to a dropped connection are retried without saving twice', async () => {
    const saver = await otherConnection();
    const root = { root: 'queue', connection: saver };
    const saves: Promise<string | null>[] = [];
    for (let i = 0; i < 20; i += 1) {
      saves.push(new Job(root, 'exactly-once', { i }).save());
      saver.reconnect();
      saves.push(Job.saveMany(root, [new Job(root, 'exactly-once', { i: 100 + i })]).then(([id]) => id ?? null));
      saver.reconnect();
    }
    const ids = await Promise.all(saves);
    assert.equal(new Set(ids).size, 40);
    const stored = await env.server.server.contexts.get('queue')?.store.list({ types: ['exactly-once'] }, { limit: 1000, order: 'created-asc' });
    assert.equal(stored?.length, 40, 'one job per save');
  });
});
