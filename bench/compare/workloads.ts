/**
 * The side-by-side workloads (`npm run bench -- --only compare`), each run on a fresh queue of
 * every system in turn, the systems' order rotated from run to run (interleaved: a drift of
 * this shared machine hits every system alike). Figures are medians over runs.
 */
import { performance } from 'node:perf_hooks';
import { median, quantile } from '../stats.ts';
import type { QueueSession, QueueSystem } from './queue-system.ts';

export interface CompareSizes {
  runs: number;
  /** Jobs enqueued one call at a time. */
  enqueueOne: number;
  /** Jobs enqueued 1,000 per call. */
  enqueueBulk: number;
  /** Jobs per end-to-end run. */
  endToEnd: number;
  /** Latency samples per run. */
  latencySamples: number;
  /**
   * The longest an end-to-end measurement may take (ms): a system still short of the last job
   * then scores what it completed in that time (pg-boss polls every 0.5 s per worker loop).
   */
  timeLimitMs: number;
}

export interface Workload {
  /** The table rows it yields, in the order of `measure`'s figures. */
  rows: string[];
  unit: 'jobs/s' | 'ms';
  /** Whether a smaller figure is better (latency). */
  lowerIsBetter: boolean;
  /** Whether only systems with a batched mode run it. */
  batched: boolean;
  measure(session: QueueSession, sizes: CompareSizes): Promise<number[]>;
}

const bulkSize = 1000;

async function enqueueAll(session: QueueSession, count: number): Promise<void> {
  for (let from = 0; from < count; from += bulkSize) await session.enqueueMany(from, Math.min(bulkSize, count - from));
}

function perSecond(count: number, startedMs: number): number {
  return count / ((performance.now() - startedMs) / 1000);
}

/** A worker started and idle, then every job enqueued in bulk: jobs per second to the last completion. */
function endToEnd(concurrency: number, batched: boolean): Workload['measure'] {
  return async (session, sizes) => {
    const worker = await session.startWorker({ concurrency, batched });
    try {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, sizes.timeLimitMs)));
      try {
        await Promise.race([(async () => {
          await enqueueAll(session, sizes.endToEnd);
          await worker.completed(sizes.endToEnd);
        })(), timeUp]);
      } finally {
        clearTimeout(timer);
      }
      return [perSecond(worker.count(), started)];
    } finally {
      await worker.stop();
    }
  };
}

/** One job at a time into an idle worker: from the enqueue call to its handler's start; p50, p99. */
const latency: Workload['measure'] = async (session, sizes) => {
  const starts = new Map<number, number>();
  let started: ((n: number) => void) | undefined;
  const worker = await session.startWorker({
    concurrency: 1,
    batched: false,
    onStart: (n) => {
      starts.set(n, performance.now());
      started?.(n);
    },
  });
  const samples: number[] = [];
  try {
    for (let n = 0; n < sizes.latencySamples; n += 1) {
      const handlerStarted = new Promise<void>((resolve) => {
      started = (m) => {
        if (m === n) resolve();
      };
    });
      const sent = performance.now();
      await session.enqueueOne({ n });
      await handlerStarted;
      samples.push((starts.get(n) as number) - sent);
      // The next sample again finds the worker idle.
      await worker.completed(n + 1);
    }
  } finally {
    await worker.stop();
  }
  return [quantile(samples, 0.5), quantile(samples, 0.99)];
};

export const workloads: Workload[] = [
  {
    rows: ['enqueue one at a time'],
    unit: 'jobs/s',
    lowerIsBetter: false,
    batched: false,
    async measure(session, sizes) {
      const started = performance.now();
      for (let n = 0; n < sizes.enqueueOne; n += 1) await session.enqueueOne({ n });
      return [perSecond(sizes.enqueueOne, started)];
    },
  },
  {
    rows: ['enqueue in bulk (1,000 per call)'],
    unit: 'jobs/s',
    lowerIsBetter: false,
    batched: false,
    async measure(session, sizes) {
      const started = performance.now();
      await enqueueAll(session, sizes.enqueueBulk);
      return [perSecond(sizes.enqueueBulk, started)];
    },
  },
  { rows: ['end-to-end, concurrency 1'], unit: 'jobs/s', lowerIsBetter: false, batched: false, measure: endToEnd(1, false) },
  { rows: ['end-to-end, concurrency 10'], unit: 'jobs/s', lowerIsBetter: false, batched: false, measure: endToEnd(10, false) },
  { rows: ['end-to-end, concurrency 50'], unit: 'jobs/s', lowerIsBetter: false, batched: false, measure: endToEnd(50, false) },
  { rows: ['end-to-end batched, concurrency 10'], unit: 'jobs/s', lowerIsBetter: false, batched: true, measure: endToEnd(10, true) },
  { rows: ['enqueue→start latency p50, idle worker', 'enqueue→start latency p99, idle worker'], unit: 'ms', lowerIsBetter: true, batched: false, measure: latency },
];

export interface CompareRow {
  workload: string;
  unit: string;
  lowerIsBetter: boolean;
  /** system name → every run's figure (NaN when it failed or does not apply). */
  runs: Record<string, number[]>;
  medians: Record<string, number>;
}

let queueCounter = 0;

/** Runs every workload on every available system, interleaved; answers a row per workload. */
export async function benchCompare(systems: readonly QueueSystem[], sizes: CompareSizes, log: (line: string) => void): Promise<{ rows: CompareRow[]; skipped: Record<string, string> }> {
  const skipped: Record<string, string> = {};
  const running: QueueSystem[] = [];
  for (const system of systems) {
    const reason = await system.unavailable();
    if (reason === undefined) running.push(system);
    else {
      skipped[system.name] = reason;
      log(`  ${system.name} skipped: ${reason}`);
    }
  }
  const rows = new Map<string, CompareRow>();
  for (const w of workloads) for (const name of w.rows) rows.set(name, { workload: name, unit: w.unit, lowerIsBetter: w.lowerIsBetter, runs: {}, medians: {} });
  try {
    for (let run = 0; run < sizes.runs; run += 1) {
      const order = running.map((_, i) => running[(i + run) % running.length] as QueueSystem);
      for (const workload of workloads) {
        for (const system of order) {
          if (workload.batched && !system.batches) continue;
          const figures = await measureOnce(system, workload, sizes).catch((error: unknown) => {
            log(`  ${system.name}: ${workload.rows.join(', ')} failed: ${error instanceof Error ? error.message : String(error)}`);
            return workload.rows.map(() => Number.NaN);
          });
          for (const [i, name] of workload.rows.entries()) {
            const figure = figures[i] ?? Number.NaN;
            ((rows.get(name) as CompareRow).runs[system.name] ??= []).push(figure);
            log(`  run ${run + 1}: ${name}: ${system.name} ${figure.toFixed(workload.unit === 'ms' ? 2 : 0)} ${workload.unit}`);
          }
        }
      }
    }
  } finally {
    for (const system of running) await system.shutdown();
  }
  for (const row of rows.values()) for (const [name, values] of Object.entries(row.runs)) row.medians[name] = median(values);
  return { rows: [...rows.values()], skipped };
}

async function measureOnce(system: QueueSystem, workload: Workload, sizes: CompareSizes): Promise<number[]> {
  const session = await system.open(`bench_${process.pid}_${(queueCounter += 1)}`);
  try {
    return await workload.measure(session, sizes);
  } finally {
    await session.close();
  }
}

/** The table: a column per system, then Cumulus' ratio to each peer (> 1 is Cumulus ahead). */
export function formatCompare(rows: readonly CompareRow[], systems: readonly string[], subject = 'Cumulus'): string[] {
  const peers = systems.filter((s) => s !== subject);
  const header = ['workload', ...systems, ...peers.map((p) => `vs ${p}`)];
  const lines = rows.map((row) => {
    const digits = row.unit === 'ms' ? 2 : 0;
    const cells = systems.map((s) => {
      const value = row.medians[s];
      return value === undefined || !Number.isFinite(value) ? '—' : `${value.toFixed(digits)} ${row.unit}`;
    });
    const ratios = peers.map((p) => {
      const mine = row.medians[subject];
      const theirs = row.medians[p];
      if (mine === undefined || theirs === undefined || !Number.isFinite(mine) || !Number.isFinite(theirs)) return '—';
      // Throughput: Cumulus / peer. Latency: peer / Cumulus, so that > 1 always means Cumulus is ahead.
      return `${(row.lowerIsBetter ? theirs / mine : mine / theirs).toFixed(2)}×`;
    });
    return [row.workload, ...cells, ...ratios];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [format(header), ...lines.map(format)];
}
