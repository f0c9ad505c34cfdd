/**
 * `npm run bench`: throughput of the server's core paths, and the worker library's latency
 * and throughput, over real DDP connections on
 * loopback, against a real SQLite file (synchronous=FULL). Each scenario runs several times;
 * the medians are printed with their ratio to a baseline measured in the same run (a
 * read-only round trip), because this machine is shared and absolute numbers drift.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Job from 'meteor-job';
import { startServer } from '../server/app/cumulus-server.ts';
import { loadConfig } from '../server/config.ts';
import { createLogger } from '../server/logger.ts';
import { BenchClient } from './bench-client.ts';
import { benchLive, median } from './live-data.ts';
import { benchWorker } from './worker-latency.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const sections = new Set(args.only ?? ['core', 'worker', 'live']);
const quick = args.quick === true;
const runs = Number(process.env.BENCH_RUNS ?? (quick ? 3 : 5));
const opsPerRun = Number(process.env.BENCH_OPS ?? 2000);
const report: Record<string, unknown> = {};

interface Scenario {
  name: string;
  /** Parallel callers, each on its own connection. */
  concurrency: number;
  /** One operation; `n` is its index within the caller. */
  op: (client: BenchClient, n: number) => Promise<unknown>;
}

const jobDoc = (type: string) => new Job('queue', type, { n: 1 }).doc;

async function cycle(client: BenchClient, type: string): Promise<void> {
  await client.call('queue_jobSave', jobDoc(type));
  const [job] = (await client.call('queue_getWork', type)) as { _id: string; runId: string }[];
  if (job === undefined) throw new Error('no work after save');
  await client.call('queue_jobDone', job._id, job.runId, {});
}

const scenarios: Scenario[] = [
  { name: 'baseline: getJob round trip (read only)', concurrency: 1, op: (c) => c.call('queue_getJob', 'missing') },
  { name: 'jobSave, 1 caller', concurrency: 1, op: (c) => c.call('queue_jobSave', jobDoc('save1')) },
  { name: 'jobSave, 32 callers', concurrency: 32, op: (c) => c.call('queue_jobSave', jobDoc('save32')) },
  { name: 'save+getWork+done, 1 caller', concurrency: 1, op: (c) => cycle(c, 'cycle1') },
  { name: 'save+getWork+done, 10 callers', concurrency: 10, op: (c, n) => cycle(c, `cycle10-${n % 10}`) },
];


async function measure(wsUrl: string, scenario: Scenario): Promise<number> {
  const clients = await Promise.all(Array.from({ length: scenario.concurrency }, () => BenchClient.connect(wsUrl)));
  const perCaller = Math.ceil(opsPerRun / scenario.concurrency);
  const started = process.hrtime.bigint();
  await Promise.all(clients.map(async (client, caller) => {
    for (let i = 0; i < perCaller; i += 1) await scenario.op(client, caller * perCaller + i);
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const client of clients) client.close();
  return (perCaller * scenario.concurrency) / seconds;
}

async function main(): Promise<void> {
  if (sections.has('core') || sections.has('worker')) await benchInProcess();
  if (sections.has('live')) {
    console.log('\nLive data: the server in its own process, jobs flowing at full speed (saveMany by 100, a queue at');
    console.log('concurrency 10), with subscribers, awaited results, and a reader that stops reading.\n');
    const rows = await benchLive(
      {
        runs: quick ? 1 : 3,
        jobs: quick ? 1500 : 4000,
        subscriberCounts: [0, 100, 1000],
        awaited: 10_000,
        slowReaderJobs: quick ? 5000 : 20_000,
      },
      (line) => console.log(line),
    );
    report.live = rows;
    const width = Math.max(...rows.map((r) => r.name.length));
    console.log(`\n${'measurement'.padEnd(width)}  median    unit    runs`);
    for (const row of rows) {
      const digits = row.unit === 'ratio' || row.unit === 'ms' ? 2 : 0;
      console.log(`${row.name.padEnd(width)}  ${row.median.toFixed(digits).padStart(8)}  ${row.unit.padEnd(6)}  ${row.runs.map((v) => v.toFixed(digits)).join(' ')}`);
    }
  }
  if (args.json !== undefined) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
}

async function benchInProcess(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-bench-'));
  const config = loadConfig({ PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`, LOG_LEVEL: 'silent' });
  const server = await startServer(config, { logger: createLogger('silent') });
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/websocket`;
  try {
    if (sections.has('core')) {
      console.log(`Cumulus core benchmark: ${runs} runs x ${opsPerRun} operations per scenario, SQLite file, loopback DDP\n`);
      const results: { name: string; median: number; all: number[] }[] = [];
      for (const scenario of scenarios) {
        const all: number[] = [];
        await measure(wsUrl, scenario); // warm-up, not counted
        for (let run = 0; run < runs; run += 1) all.push(await measure(wsUrl, scenario));
        results.push({ name: scenario.name, median: median(all), all });
      }
      report.core = results;
      const baseline = results[0]?.median ?? 1;
      const width = Math.max(...results.map((r) => r.name.length));
      console.log(`${'scenario'.padEnd(width)}  median ops/s  vs baseline  runs (ops/s)`);
      for (const r of results) {
        console.log(`${r.name.padEnd(width)}  ${r.median.toFixed(0).padStart(12)}  ${(r.median / baseline).toFixed(2).padStart(11)}  ${r.all.map((v) => v.toFixed(0)).join(' ')}`);
      }
      console.log('\nA save+getWork+done "op" is three round trips and three durable transactions.');
    }
    if (sections.has('worker')) {
      console.log('\nWorker library (worker/): enqueue->start latency with an idle worker, and end-to-end');
      console.log('throughput into an idle queue running a no-op worker.\n');
      const rows = await benchWorker(wsUrl, { runs });
      report.worker = rows;
      const rowWidth = Math.max(...rows.map((r) => r.name.length));
      console.log(`${'measurement'.padEnd(rowWidth)}  median  unit    runs`);
      for (const row of rows) {
        const digits = row.unit === 'ms' ? 2 : 0;
        console.log(`${row.name.padEnd(rowWidth)}  ${row.median.toFixed(digits).padStart(6)}  ${row.unit.padEnd(6)}  ${row.runs.map((v) => v.toFixed(digits)).join(' ')}`);
      }
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
