/**
 * Worker-library benchmark, for `bench/run.ts` to call against the server it started:
 *
 * ```ts
 * import { benchWorker } from './worker-latency.ts';
 * const rows = await benchWorker(wsUrl, { runs });
 * for (const row of rows) console.log(row.name, row.median.toFixed(2), row.unit, row.runs);
 * ```
 *
 * It measures, over real DDP connections (a producer and a worker, each on its own socket):
 * - enqueue→start latency: from the moment a producer's `jobSave` is answered to the moment
 *   the worker function starts, with the worker idle (waiting on the server for work, no
 *   polling). p50 and p99 per run; the row is the median over runs. A negative sample means
 *   the worker started before the producer had its answer (both are told in the same instant).
 * - end-to-end throughput at concurrency 1, 10 and 50: a producer saves N jobs (`saveMany`,
 *   100 per call) into an idle queue running a no-op worker; jobs per second from the first
 *   save to the last completion acknowledged.
 * - a baseline: one `getJob` round trip on the same connection, to read the others against.
 *
 * Each measurement runs `runs` times (after one warm-up run) on fresh job types; rows carry the
 * median and every run. Nothing is printed.
 */
import { performance } from 'node:perf_hooks';
import { connect, Job, type CumulusConnection, type JobQueue } from '../worker/index.ts';

export interface WorkerBenchOptions {
  /** Measured runs per row (after one warm-up). Default 5. */
  runs?: number;
  /** Latency samples per run. Default 200. */
  samples?: number;
  /** Jobs per throughput run. Default 1000. */
  jobs?: number;
  /** Worker concurrencies of the throughput rows. Default [1, 10, 50]. */
  concurrencies?: readonly number[];
  /** Collection root. Default `queue`. */
  root?: string;
  /** A token with the admin role, when the server has `CUMULUS_TOKENS`. */
  token?: string;
}

export interface WorkerBenchRow {
  name: string;
  unit: 'ms' | 'jobs/s';
  /** The median over runs. */
  median: number;
  /** Every measured run, in order. */
  runs: number[];
}

const saveBatch = 100;

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

let typeCounter = 0;
const freshType = (what: string): string => `bench-${what}-${process.pid}-${(typeCounter += 1)}`;

/** Resolves when `count()` reaches `target` (checked by the worker as it goes). */
function counter(): { hit(): void; reached(target: number): Promise<void>; readonly value: number } {
  let value = 0;
  let waiting: { target: number; resolve(): void } | undefined;
  return {
    hit() {
      value += 1;
      if (waiting !== undefined && value >= waiting.target) waiting.resolve();
    },
    reached(target) {
      if (value >= target) return Promise.resolve();
      return new Promise((resolve) => (waiting = { target, resolve }));
    },
    get value() {
      return value;
    },
  };
}

async function roundTrip(producer: CumulusConnection, root: string, samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const started = performance.now();
    await Job.getJob({ root, connection: producer }, 'missing');
    times.push(performance.now() - started);
  }
  return quantile(times, 0.5);
}

async function latencyRun(producer: CumulusConnection, worker: CumulusConnection, root: string, samples: number): Promise<{ p50: number; p99: number }> {
  const type = freshType('latency');
  const startedAt = new Map<number, number>();
  const started = counter();
  const queue = Job.processJobs({ root, connection: worker }, type, { pollInterval: false }, async (job) => {
    startedAt.set(job.data.n as number, performance.now());
    started.hit();
  });
  const latencies: number[] = [];
  try {
    for (let n = 0; n < samples; n += 1) {
      // Wait until the queue is idle again, so every sample measures the wake-up of an idle worker.
      await queue.onIdle();
      await new Job({ root, connection: producer }, type, { n }).save();
      const answered = performance.now();
      await started.reached(n + 1);
      latencies.push((startedAt.get(n) as number) - answered);
    }
  } finally {
    await queue.shutdown({ level: 'soft' });
  }
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

async function throughputRun(producer: CumulusConnection, worker: CumulusConnection, root: string, jobs: number, concurrency: number): Promise<number> {
  const type = freshType(`c${concurrency}`);
  const done = counter();
  const queue: JobQueue = Job.processJobs({ root, connection: worker }, type, { concurrency, pollInterval: false }, async () => {
    done.hit();
  });
  try {
    await queue.onIdle();
    const started = performance.now();
    for (let sent = 0; sent < jobs; sent += saveBatch) {
      const batch = Array.from({ length: Math.min(saveBatch, jobs - sent) }, (_, i) => new Job({ root, connection: producer }, type, { n: sent + i }));
      await Job.saveMany({ root, connection: producer }, batch);
    }
    await done.reached(jobs);
    await queue.onIdle();
    return jobs / ((performance.now() - started) / 1000);
  } finally {
    await queue.shutdown({ level: 'soft' });
  }
}

/** Runs `measure` once to warm up, then `runs` times; answers the measured values. */
async function repeat<T>(runs: number, measure: () => Promise<T>): Promise<T[]> {
  await measure();
  const values: T[] = [];
  for (let run = 0; run < runs; run += 1) values.push(await measure());
  return values;
}

/**
 * Measures the worker library against the Cumulus server at `wsUrl` (see the file comment) and
 * answers one row per measurement. Leaves no queue or connection behind.
 */
export async function benchWorker(wsUrl: string, options: WorkerBenchOptions = {}): Promise<WorkerBenchRow[]> {
  const { runs = 5, samples = 200, jobs = 1000, concurrencies = [1, 10, 50], root = 'queue', token } = options;
  const connectOptions = { setAsDefault: false, ...(token === undefined ? {} : { token }) };
  const producer = await connect(wsUrl, connectOptions);
  const worker = await connect(wsUrl, connectOptions);
  try {
    const rows: WorkerBenchRow[] = [];
    const row = (name: string, unit: WorkerBenchRow['unit'], values: number[]): void => {
      rows.push({ name, unit, median: median(values), runs: values });
    };
    row('baseline: getJob round trip, p50', 'ms', await repeat(runs, () => roundTrip(producer, root, samples)));
    const latency = await repeat(runs, () => latencyRun(producer, worker, root, samples));
    row('enqueue→start latency, idle worker, p50', 'ms', latency.map((l) => l.p50));
    row('enqueue→start latency, idle worker, p99', 'ms', latency.map((l) => l.p99));
    for (const concurrency of concurrencies) {
      row(`end-to-end, no-op worker, concurrency ${concurrency}`, 'jobs/s', await repeat(runs, () => throughputRun(producer, worker, root, jobs, concurrency)));
    }
    return rows;
  } finally {
    await worker.close();
    await producer.close();
  }
}
