/**
 * `npm run bench`: Cumulus measured as users run it (the server in its own process, on a durable
 * SQLite file) and, in the same run, side by side with the queues users would pick instead —
 * BullMQ on the local Redis, graphile-worker and pg-boss on the local PostgreSQL — plus the
 * live-data rows (subscribers, awaited results, a slow reader). Every figure is the median of
 * interleaved runs: this machine is shared, and only what is measured together compares.
 *
 *   npm run bench                      everything (about half an hour)
 *   npm run bench -- --quick           smaller sizes, one run (a few minutes)
 *   npm run bench -- --only compare    one section: compare | scale | live | ui (repeatable)
 *   npm run bench -- --system Cumulus  compare only these systems (repeatable)
 *   npm run bench -- --json out.json   also write every run's figures to a file
 *
 * BENCH_PROFILE_DIR=<dir> writes a CPU profile of each Cumulus server process there.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BullMqSystem } from './compare/bullmq.ts';
import { CumulusSystem } from './compare/cumulus.ts';
import { GraphileWorkerSystem } from './compare/graphile-worker.ts';
import { PgBossSystem } from './compare/pg-boss.ts';
import type { QueueSystem } from './compare/queue-system.ts';
import { benchCompare, formatCompare } from './compare/workloads.ts';
import { benchLive } from './live-data.ts';
import { benchScale } from './scale.ts';
import { benchUiLoad } from './ui-load.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    system: { type: 'string', multiple: true },
  },
});
const sectionNames = ['compare', 'scale', 'live', 'ui'];
const sections = new Set(args.only ?? sectionNames);
for (const section of sections) {
  if (!sectionNames.includes(section)) throw new Error(`unknown section '${section}' (${sectionNames.join(', ')})`);
}
const quick = args.quick === true;
const report: Record<string, unknown> = {};

async function compare(): Promise<void> {
  const wanted = args.system?.map((name) => name.toLowerCase());
  const systems: QueueSystem[] = [new CumulusSystem(), new BullMqSystem(), new GraphileWorkerSystem(), new PgBossSystem()].filter(
    (system) => wanted === undefined || wanted.includes(system.name.toLowerCase()),
  );
  const sizes = quick
    ? { runs: 1, enqueueOne: 500, enqueueBulk: 5000, endToEnd: 2000, latencySamples: 50, timeLimitMs: 10_000 }
    : { runs: 3, enqueueOne: 2000, enqueueBulk: 20_000, endToEnd: 10_000, latencySamples: 200, timeLimitMs: 30_000 };
  console.log('Side by side: no-op jobs, each system on a fresh queue per measurement, interleaved runs.');
  for (const system of systems) console.log(`  ${system.name}: ${system.description}`);
  console.log(`  sizes: ${JSON.stringify(sizes)}\n`);
  const { rows, skipped } = await benchCompare(systems, sizes, (line) => console.log(line));
  report.compare = { sizes, rows, skipped };
  console.log('');
  for (const line of formatCompare(rows, systems.map((s) => s.name).filter((name) => skipped[name] === undefined))) console.log(line);
  console.log('\n"vs X" is how far ahead Cumulus is (throughput: Cumulus / X; latency: X / Cumulus); > 1 is ahead.');
}

async function scale(): Promise<void> {
  console.log('\nScale: claim+done cost with many jobs waiting or finished, server RSS and store size (own process, durable SQLite).\n');
  const rows = await benchScale(quick ? { small: 10_000, large: 100_000, pairs: 300 } : { small: 10_000, large: 1_000_000, pairs: 1000 }, (line) => console.log(line));
  report.scale = rows;
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log('');
  for (const row of rows) console.log(`${row.name.padEnd(width)}  ${row.value.toFixed(row.unit === 'MiB' || row.unit === 'bytes' ? 0 : 2).padStart(8)}  ${row.unit}`);
}

async function live(): Promise<void> {
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

async function ui(): Promise<void> {
  console.log('\nThe Weather Station under load: jobs at full speed without a browser, then with the overview and the');
  console.log('live job list open in chromium (on the same machine).\n');
  const rows = await benchUiLoad({ runs: quick ? 1 : 3, jobs: quick ? 3000 : 10_000 }, (line) => console.log(line));
  report.ui = rows;
  if (rows.length === 0) return;
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\n${'measurement'.padEnd(width)}  median    unit    runs`);
  for (const row of rows) {
    const digits = row.unit === 'ratio' ? 2 : row.unit === 'ms' ? 1 : 0;
    console.log(`${row.name.padEnd(width)}  ${row.median.toFixed(digits).padStart(8)}  ${row.unit.padEnd(6)}  ${row.runs.map((v) => v.toFixed(digits)).join(' ')}`);
  }
}

async function main(): Promise<void> {
  if (sections.has('compare')) await compare();
  if (sections.has('scale')) await scale();
  if (sections.has('live')) await live();
  if (sections.has('ui')) await ui();
  if (args.json !== undefined) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
}

// Exit through 'exit' handlers on a signal, so that the servers started are stopped too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
