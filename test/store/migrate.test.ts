// Copying a collection root between stores (server/migrate): SQLite to MongoDB (in memory here)
// and back, whole jobs and chains, resumable, counts checked; and `npm run migrate` as users
// run it, in its own process, between two SQLite files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createLogger } from '../../server/logger.ts';
import { copyStore } from '../../server/migrate/copy-store.ts';
import type { JobStore, StoredChain, StoredJob } from '../../server/store/job-store.ts';
import { openMongoStoresOn } from '../../server/store/mongo/open-mongo.ts';
import { openStores, type OpenedStores } from '../../server/store/open-store.ts';
import { makeJob, makeLogEntry } from '../helpers/job-fixtures.ts';
import { MemoryMongo } from '../helpers/memory-mongo.ts';

const silent = createLogger('silent');
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A varied set of jobs and chains in `store`: every status, logs, failures, a claim, EJSON types. */
async function fill(store: JobStore, count: number): Promise<{ jobs: StoredJob[]; chains: StoredChain[] }> {
  const statuses = ['waiting', 'ready', 'running', 'completed', 'failed', 'cancelled', 'paused'] as const;
  const jobs = Array.from({ length: count }, (_, n) => {
    const status = statuses[n % statuses.length] ?? 'waiting';
    return makeJob({
      type: `t${n % 3}`,
      status,
      data: { n, when: new Date(1_700_000_000_000 + n), bytes: new Uint8Array([n % 256, 1]) },
      ...(status === 'running' ? { runId: `run-${n}`, _private: { claimedBy: `conn-${n}`, server: 'old-server' } } : {}),
      ...(status === 'failed' ? { failures: [{ runId: `run-${n}`, value: 'boom' }] } : {}),
      ...(status === 'completed' ? { result: { ok: n } } : {}),
    });
  });
  const chains: StoredChain[] = [1, 2].map((n) => ({
    _id: `chain-${n}`, links: [{ type: 'a', data: { n } }, { type: 'b' }], jobIds: [], callbackAt: 1, status: 'running', depth: 0, created: new Date(0), updated: new Date(0),
  }));
  await store.transaction(async (tx) => {
    for (const [n, job] of jobs.entries()) await tx.insert(job, [makeLogEntry('Job Submitted'), makeLogEntry(`note ${n}`, { data: { n } })]);
    for (const chain of chains) await tx.insertChain(chain);
  });
  return { jobs, chains };
}

async function everything(store: JobStore) {
  const jobs = [];
  for (let page = await store.scanJobs(undefined, 100); page.length > 0; page = await store.scanJobs(page.at(-1)?._id, 100)) jobs.push(...page);
  return { jobs, chains: await store.scanChains(undefined, 1000) };
}

describe('copying a store', () => {
  let dir: string;
  const opened: OpenedStores[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumulus-migrate-'));
  });

  afterEach(async () => {
    for (const stores of opened.splice(0)) await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sqlite = async (name: string) => {
    const stores = await openStores(`sqlite:${join(dir, name)}`, ['queue'], { logger: silent });
    opened.push(stores);
    return stores.stores.get('queue') as JobStore;
  };
  const mongo = async () => {
    const client = new MemoryMongo().client();
    const stores = await openMongoStoresOn(client, client.db('cumulus'), ['queue'], { logger: silent });
    opened.push(stores);
    return stores.stores.get('queue') as JobStore;
  };

  it('copies SQLite to MongoDB and back, every job and chain whole', async () => {
    const source = await sqlite('source.db');
    await fill(source, 120);
    const original = await everything(source);
    const middle = await mongo();
    const there = await copyStore(source, middle, { pageSize: 25 });
    assert.deepEqual(there, { jobsRead: 120, jobsPresent: 0, chainsRead: 2, chainsPresent: 0, mismatches: [] });
    assert.deepEqual(await everything(middle), original);
    const back = await sqlite('back.db');
    const returned = await copyStore(middle, back, { pageSize: 50 });
    assert.deepEqual(returned.mismatches, []);
    assert.deepEqual(await everything(back), original);
  });

  it('resumes: what the target has is left alone, and progress is told page by page', async () => {
    const source = await sqlite('source.db');
    const { jobs } = await fill(source, 40);
    const target = await mongo();
    // A first run that stopped after 15 jobs.
    await target.transaction(async (tx) => {
      for (const job of (await everything(source)).jobs.slice(0, 15)) {
        const { log, ...stored } = job;
        await tx.insert(stored, log);
      }
    });
    const seen: number[] = [];
    const outcome = await copyStore(source, target, { pageSize: 10, onProgress: (progress) => seen.push(progress.jobsRead) });
    assert.equal(outcome.jobsPresent, 15);
    assert.deepEqual(outcome.mismatches, []);
    assert.deepEqual(seen.filter((read) => read > 0 && read % 10 === 0), [10, 20, 30, 40]);
    assert.equal((await everything(target)).jobs.length, jobs.length);
  });

  it('reports counts that differ after the copy', async () => {
    const source = await sqlite('source.db');
    await fill(source, 7);
    const target = await mongo();
    await target.transaction((tx) => tx.insert(makeJob({ type: 'extra' }), []));
    const outcome = await copyStore(source, target);
    assert.deepEqual(outcome.mismatches, ['extra/waiting: 0 → 1']);
  });
});

describe('npm run migrate', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumulus-migrate-cli-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) =>
    new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'server/migrate/main.ts', ...args], {
        cwd: projectRoot,
        env: { ...process.env, CUMULUS_COLLECTIONS: 'queue,mail' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, output }));
    });

  it('copies every collection root between two files, checks the counts, and copies nothing twice when run again', async () => {
    const from = `sqlite:${join(dir, 'from.db')}`;
    const to = `sqlite:${join(dir, 'to.db')}`;
    const source = await openStores(from, ['queue', 'mail'], { logger: silent });
    await fill(source.stores.get('queue') as JobStore, 30);
    await fill(source.stores.get('mail') as JobStore, 5);
    await source.close();

    const first = await run(['--from', from, '--to', to]);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /queue: 30 jobs copied, 0 already there; 2 chains copied/);
    assert.match(first.output, /mail: 5 jobs copied/);
    assert.match(first.output, /queue: counts agree/);
    const again = await run(['--from', from, '--to', to]);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /queue: 0 jobs copied, 30 already there/);

    const target = await openStores(to, ['queue'], { logger: silent });
    try {
      assert.equal((await everything(target.stores.get('queue') as JobStore)).jobs.length, 30);
    } finally {
      await target.close();
    }
  });

  it('explains its arguments, and refuses a source a server is using', async () => {
    const missing = await run(['--from', 'sqlite:x.db']);
    assert.equal(missing.code, 2);
    assert.match(missing.output, /both --from and --to are needed[\s\S]*Usage: npm run migrate/);
    const from = `sqlite:${join(dir, 'busy.db')}`;
    const busy = await openStores(from, ['queue'], { logger: silent });
    try {
      const refused = await run(['--from', from, '--to', `sqlite:${join(dir, 'other.db')}`]);
      assert.equal(refused.code, 2);
      assert.match(refused.output, /another Cumulus server is using it/);
    } finally {
      await busy.close();
    }
  });
});
