/**
 * The scale check (`npm run bench -- --only scale`): what one claim and one completion cost
 * when many jobs wait, what the server's memory and the store's size are with many jobs stored.
 * For each size, a fresh server process (durable SQLite) is filled with that many ready jobs of
 * one type (`saveMany`, 1,000 per call), then one connection claims and completes jobs of that
 * type one at a time (`getWork` then `jobDone`, each awaited): the median time of the pair.
 * Then the same with that many jobs completed instead of waiting, and the search (jobList
 * with `text`, 50 per page) over them: a word one job holds, a word every job holds (its type),
 * and the bulk-action count of the common word.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connect, Job, type CumulusConnection } from '../worker/index.ts';
import { startServerProcess } from './server-process.ts';
import { median } from './stats.ts';

export interface ScaleRow {
  name: string;
  unit: string;
  value: number;
}

async function fill(connection: CumulusConnection, type: string, count: number, log: (line: string) => void): Promise<void> {
  const at = { root: 'queue', connection };
  for (let from = 0; from < count; from += 1000) {
    await Job.saveMany(at, Array.from({ length: Math.min(1000, count - from) }, (_, i) => new Job(at, type, { n: from + i })));
    if ((from / 1000) % 100 === 99) log(`    ${from + 1000} jobs saved`);
  }
}

/** Median ms of one getWork + jobDone pair, over `pairs` pairs. */
async function claimAndDone(connection: CumulusConnection, type: string, pairs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < pairs; i += 1) {
    const started = performance.now();
    const [job] = await connection.call<Array<{ _id: string; runId: string }>>('queue_getWork', type, { maxJobs: 1 });
    if (job === undefined) throw new Error('no job to claim');
    await connection.call('queue_jobDone', job._id, job.runId, {}, {});
    times.push(performance.now() - started);
  }
  return median(times);
}

function storeBytes(file: string): number {
  return [file, `${file}-wal`].reduce((sum, path) => {
    try {
      return sum + statSync(path).size;
    } catch {
      return sum;
    }
  }, 0);
}

/** Median ms of `times` calls of `call`. */
async function timed(times: number, call: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

interface SearchTimes {
  rare: number;
  common: number;
  count: number;
}

/** Search latency over the stored jobs (data `{n}`, type `scale`): one match, every job a match, and the count of all. */
async function searchLatency(connection: CumulusConnection, count: number): Promise<SearchTimes> {
  let probe = 0;
  const rare = await timed(50, async () => {
    probe = (probe + 7919) % count;
    const found = await connection.call<unknown[]>('queue_jobList', { text: String(probe) }, { limit: 50 });
    if (found.length === 0) throw new Error(`search found no job holding ${probe}`);
  });
  const common = await timed(50, () => connection.call('queue_jobList', { text: 'scale' }, { limit: 50 }));
  const counted = await timed(5, () => connection.call('queue_jobBulk', 'remove', { text: 'scale' }, { dryRun: true }));
  return { rare, common, count: counted };
}

/** One size: `count` jobs waiting, then the same number completed. */
async function atSize(count: number, pairs: number, log: (line: string) => void): Promise<{ waiting: number; finished: number; rssMiB: number; bytesPerJob: number; search: SearchTimes }> {
  const server = await startServerProcess();
  const connection = await connect(server.wsUrl, { setAsDefault: false, heartbeatMs: 0 });
  try {
    log(`  ${count} jobs: filling`);
    await fill(connection, 'scale', count, log);
    const waiting = await claimAndDone(connection, 'scale', pairs);
    const rssMiB = server.rssMiB();
    const bytesPerJob = storeBytes(server.databaseFile) / count;
    // The same claims with the table full of finished jobs and only a few waiting.
    log(`  ${count} jobs: completing them all`);
    const left = count - pairs;
    let completed = 0;
    const worker = Job.processJobs({ root: 'queue', connection }, 'scale', { concurrency: 10, payload: 10, prefetch: 500, pollInterval: false }, async () => undefined);
    await new Promise<void>((resolve) => {
      worker.on('completed', () => {
        completed += 1;
        if (completed === left) resolve();
      });
    });
    await worker.shutdown({ level: 'soft' });
    await fill(connection, 'fresh', pairs, log);
    const finished = await claimAndDone(connection, 'fresh', pairs);
    log(`  ${count} jobs: claim+done ${waiting.toFixed(2)} ms waiting, ${finished.toFixed(2)} ms finished; RSS ${rssMiB.toFixed(0)} MiB; ${bytesPerJob.toFixed(0)} B/job`);
    const search = await searchLatency(connection, count);
    log(`  ${count} jobs: search ${search.rare.toFixed(2)} ms one match, ${search.common.toFixed(2)} ms all match (first 50); count of all ${search.count.toFixed(0)} ms`);
    return { waiting, finished, rssMiB, bytesPerJob, search };
  } finally {
    await connection.close();
    await server.stop();
  }
}

export async function benchScale(sizes: { small: number; large: number; pairs: number }, log: (line: string) => void): Promise<ScaleRow[]> {
  const small = await atSize(sizes.small, sizes.pairs, log);
  const large = await atSize(sizes.large, sizes.pairs, log);
  const k = (n: number) => n.toLocaleString('en-US');
  return [
    { name: `claim+done with ${k(sizes.small)} jobs waiting`, unit: 'ms', value: small.waiting },
    { name: `claim+done with ${k(sizes.large)} jobs waiting`, unit: 'ms', value: large.waiting },
    { name: `ratio ${k(sizes.large)} / ${k(sizes.small)} waiting`, unit: 'ratio', value: large.waiting / small.waiting },
    { name: `claim+done with ${k(sizes.large)} jobs finished`, unit: 'ms', value: large.finished },
    { name: `ratio ${k(sizes.large)} finished / ${k(sizes.small)} waiting`, unit: 'ratio', value: large.finished / small.waiting },
    { name: `server RSS with ${k(sizes.large)} jobs stored`, unit: 'MiB', value: large.rssMiB },
    { name: 'store size per small job', unit: 'bytes', value: large.bytesPerJob },
    { name: `search, one match among ${k(sizes.large)} jobs`, unit: 'ms', value: large.search.rare },
    { name: `search, every job a match, first page of ${k(sizes.large)}`, unit: 'ms', value: large.search.common },
    { name: `count of a search matching ${k(sizes.large)} jobs (bulk dry run)`, unit: 'ms', value: large.search.count },
  ];
}
