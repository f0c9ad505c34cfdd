/**
 * Live data under load (`npm run bench -- --only live`): the server in its own process on a
 * durable SQLite file, jobs flowing at full speed (a producer saving in batches of 100, a
 * worker-library queue at concurrency 10), while
 * - 0, 100 or 1,000 other connections are each subscribed to `queue.jobs`: the server's peak
 *   RSS, a `getJob` round trip on a separate connection (p50, p99), and the flow's throughput;
 * - one producer awaits 10,000 results at once (`Job.waitFor`): the server's RSS above idle;
 * - one subscriber (`limit: 1000`) stops reading its socket: the server's RSS over time, whether
 *   it was closed, and the flow's throughput against the same flow without it.
 * Each figure is the median of interleaved runs.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import EJSON from 'ejson';
import WebSocket from 'ws';
import { connect, Job } from '../worker/index.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';
import { median, quantile } from './stats.ts';

export interface LiveBenchOptions {
  runs: number;
  /** Jobs per flow. */
  jobs: number;
  subscriberCounts: readonly number[];
  awaited: number;
  slowReaderJobs: number;
}

export interface LiveRow {
  name: string;
  unit: string;
  runs: number[];
  median: number;
}

/** A subscribed connection that reads (and drops) everything it is sent. */
export async function subscriber(wsUrl: string, params: unknown[] = []): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const ready = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const message = EJSON.parse(data.toString()) as { msg?: string };
      if (message.msg === 'ping') ws.send('{"msg":"pong"}');
      if (message.msg === 'ready') resolve();
    });
  });
  ws.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] }));
  ws.send(JSON.stringify({ msg: 'sub', id: 's', name: 'queue.jobs', params }));
  await ready;
  return ws;
}

interface FlowResult {
  jobsPerSecond: number;
  peakRssMiB: number;
  getJobP50: number;
  getJobP99: number;
  /** RSS samples (MiB) every 500 ms. */
  rssOverTime: number[];
}

/**
 * `jobs` jobs saved and worked at full speed; a probe connection measures `getJob`, and the
 * server's RSS is sampled, until the last job is done.
 */
export async function flow(server: ServerProcess, jobs: number, type: string, padding = 0): Promise<FlowResult> {
  const producer = await connect(server.wsUrl, { setAsDefault: false, heartbeatMs: 0 });
  const worker = await connect(server.wsUrl, { setAsDefault: false, heartbeatMs: 0 });
  const probe = await connect(server.wsUrl, { setAsDefault: false, heartbeatMs: 0 });
  const done = { count: 0 };
  const finished = new Promise<void>((resolve) => {
    const queue = Job.processJobs({ root: 'queue', connection: worker }, type, { concurrency: 10, pollInterval: false }, async () => ({}));
    queue.on('completed', () => {
      done.count += 1;
      if (done.count === jobs) resolve();
    });
  });
  const latencies: number[] = [];
  const rss: number[] = [];
  let peak = server.rssMiB();
  let probing = true;
  const probeLoop = (async () => {
    while (probing) {
      const started = performance.now();
      await probe.call('queue_getJob', 'missing');
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const sampler = setInterval(() => {
    const now = server.rssMiB();
    peak = Math.max(peak, now);
    rss.push(now);
  }, 500);
  const root = { root: 'queue', connection: producer };
  const data = padding > 0 ? { padding: 'x'.repeat(padding) } : {};
  const started = performance.now();
  for (let saved = 0; saved < jobs; saved += 100) {
    await Job.saveMany(root, Array.from({ length: Math.min(100, jobs - saved) }, () => new Job(root, type, data)));
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  probing = false;
  await probeLoop;
  clearInterval(sampler);
  peak = Math.max(peak, server.rssMiB());
  await Promise.all([producer.close(), worker.close(), probe.close()]);
  return { jobsPerSecond: jobs / seconds, peakRssMiB: peak, getJobP50: quantile(latencies, 0.5), getJobP99: quantile(latencies, 0.99), rssOverTime: rss };
}

async function withServer<T>(work: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await startServerProcess();
  try {
    return await work(server);
  } finally {
    await server.stop();
  }
}

/** The flow with `count` subscribers, connected from a process of their own, to the same server. */
async function subscribedFlow(count: number, jobs: number): Promise<FlowResult> {
  return withServer(async (server) => {
    const fleet = spawn(process.execPath, ['--import', 'tsx', 'bench/subscriber-fleet.ts', server.wsUrl, String(count)], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: fleet.stdout as NodeJS.ReadableStream });
    const nextLine = () => new Promise<string>((resolve) => lines.once('line', resolve));
    try {
      if ((await nextLine()) !== 'ready') throw new Error('the subscriber fleet did not start');
      return await flow(server, jobs, 'flow');
    } finally {
      const exited = new Promise((resolve) => fleet.once('exit', resolve));
      fleet.stdin?.end();
      await exited;
    }
  });
}

interface AwaitedResult {
  idleRssMiB: number;
  awaitingRssMiB: number;
  resolvedPerSecond: number;
}

/** One producer awaits `count` results at once; then a worker completes them all. */
async function awaitedResults(count: number): Promise<AwaitedResult> {
  return withServer(async (server) => {
    const producer = await connect(server.wsUrl, { setAsDefault: false, heartbeatMs: 0 });
    const root = { root: 'queue', connection: producer };
    const ids: string[] = [];
    for (let saved = 0; saved < count; saved += 1000) {
      ids.push(...((await Job.saveMany(root, Array.from({ length: Math.min(1000, count - saved) }, () => new Job(root, 'awaited', {})))) as string[]));
    }
    const idle = server.rssMiB();
    let watched = 0;
    const apply = producer.apply.bind(producer);
    producer.apply = (<T>(method: string, params: unknown[]) =>
      apply<T>(method, params).then((answer) => {
        if (method === 'queue_jobWatch') watched += (params[0] as string[]).length;
        return answer;
      })) as typeof producer.apply;
    const results = ids.map((id) => Job.waitFor(root, id));
    while (watched < count) await new Promise((resolve) => setTimeout(resolve, 50));
    const awaiting = server.rssMiB();
    const worker = await connect(server.wsUrl, { setAsDefault: false, heartbeatMs: 0 });
    const started = performance.now();
    const queue = Job.processJobs({ root: 'queue', connection: worker }, 'awaited', { concurrency: 10, pollInterval: false }, async () => ({ ok: true }));
    await Promise.all(results);
    const seconds = (performance.now() - started) / 1000;
    await queue.shutdown({ level: 'hard' });
    await Promise.all([producer.close(), worker.close()]);
    return { idleRssMiB: idle, awaitingRssMiB: awaiting, resolvedPerSecond: count / seconds };
  });
}

interface SlowReaderResult {
  flow: FlowResult;
  idleRssMiB: number;
  closed: boolean;
}

/** A subscriber with `limit: 1000` that never reads, while `jobs` ~1 KiB jobs flow. */
async function slowReader(jobs: number): Promise<SlowReaderResult> {
  return withServer(async (server) => {
    const idle = server.rssMiB();
    const ws = await subscriber(server.wsUrl, [{ limit: 1000 }]);
    const closed = new Promise<boolean>((resolve) => ws.once('close', () => resolve(true)));
    (ws as unknown as { _socket: Socket })._socket.pause();
    // It keeps sending pings, as the outside run's client did, so it looks alive.
    const pinger = setInterval(() => ws.send('{"msg":"ping"}'), 1000);
    try {
      const result = await flow(server, jobs, 'slow', 1024);
      (ws as unknown as { _socket: Socket })._socket.resume();
      const wasClosed = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000))]);
      return { flow: result, idleRssMiB: idle, closed: wasClosed };
    } finally {
      clearInterval(pinger);
      ws.terminate();
    }
  });
}

export async function benchLive(options: LiveBenchOptions, log: (line: string) => void): Promise<LiveRow[]> {
  const byCount = new Map<number, FlowResult[]>(options.subscriberCounts.map((count) => [count, []]));
  const awaited: AwaitedResult[] = [];
  const slow: SlowReaderResult[] = [];
  const plain: Array<FlowResult & { idleRssMiB: number }> = [];
  for (let run = 0; run < options.runs; run += 1) {
    for (const count of options.subscriberCounts) {
      const result = await subscribedFlow(count, options.jobs);
      byCount.get(count)?.push(result);
      log(`  run ${run + 1}: ${count} subscribers: ${result.jobsPerSecond.toFixed(0)} jobs/s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB, getJob p50 ${result.getJobP50.toFixed(2)} ms`);
    }
    const waits = await awaitedResults(options.awaited);
    awaited.push(waits);
    log(`  run ${run + 1}: ${options.awaited} awaited: +${(waits.awaitingRssMiB - waits.idleRssMiB).toFixed(1)} MiB`);
    plain.push(await withServer(async (server) => ({ idleRssMiB: server.rssMiB(), ...(await flow(server, options.slowReaderJobs, 'plain', 1024)) })));
    const reader = await slowReader(options.slowReaderJobs);
    slow.push(reader);
    log(`  run ${run + 1}: slow reader: peak RSS ${reader.flow.peakRssMiB.toFixed(0)} MiB (idle ${reader.idleRssMiB.toFixed(0)}), closed ${reader.closed}, RSS over time ${reader.flow.rssOverTime.map((v) => v.toFixed(0)).join(' ')}`);
  }
  const rows: LiveRow[] = [];
  const row = (name: string, unit: string, values: number[]) => rows.push({ name, unit, runs: values, median: median(values) });
  const baseline = median((byCount.get(0) ?? []).map((r) => r.jobsPerSecond));
  for (const [count, results] of byCount) {
    row(`${count} subscribers: server peak RSS`, 'MiB', results.map((r) => r.peakRssMiB));
    row(`${count} subscribers: getJob p50 (separate connection)`, 'ms', results.map((r) => r.getJobP50));
    row(`${count} subscribers: getJob p99`, 'ms', results.map((r) => r.getJobP99));
    row(`${count} subscribers: end-to-end throughput`, 'jobs/s', results.map((r) => r.jobsPerSecond));
    if (count !== 0) row(`${count} subscribers: throughput / no subscribers`, 'ratio', results.map((r) => r.jobsPerSecond / baseline));
  }
  row(`${options.awaited} results awaited: server RSS above idle`, 'MiB', awaited.map((r) => r.awaitingRssMiB - r.idleRssMiB));
  row(`${options.awaited} results awaited: resolved`, 'jobs/s', awaited.map((r) => r.resolvedPerSecond));
  row('same flow without the slow reader: server peak RSS above idle', 'MiB', plain.map((r) => r.peakRssMiB - r.idleRssMiB));
  row('slow reader: server peak RSS above idle', 'MiB', slow.map((r) => r.flow.peakRssMiB - r.idleRssMiB));
  row('slow reader: flow throughput / without it', 'ratio', slow.map((r, i) => r.flow.jobsPerSecond / (plain[i]?.jobsPerSecond ?? Number.NaN)));
  row('slow reader: closed (1 = yes)', 'bool', slow.map((r) => (r.closed ? 1 : 0)));
  return rows;
}
