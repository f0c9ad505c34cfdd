/**
 * The Weather Station under load (`npm run bench -- --only ui`): jobs completing at full speed
 * (the live-data flow: a producer saving by 100, a worker-library queue at concurrency 10) on a
 * server in its own process, without a browser and with the UI open in Debian's chromium (the
 * overview and the live job list, each in a page of its own). Reported: the flow's throughput
 * both ways and their ratio, and the job list page's frame intervals and long tasks while the
 * jobs stream. Runs are interleaved; medians are quoted.
 *
 * The browser runs on the same machine as the server and the flow, so "with the UI" also pays
 * for the browser's own CPU. A third condition separates the server's share: the same
 * subscriptions as the two pages (`queue.jobs` of the newest 100 at 250 ms, `queue.stats` twice,
 * `queue.analytics` of the last hour) made by a Node client, no browser.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';
import { flow } from './live-data.ts';
import { startServerProcess } from './server-process.ts';
import { median, quantile } from './stats.ts';

export interface UiLoadRow {
  name: string;
  unit: string;
  runs: number[];
  median: number;
}

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Collects the intervals between animation frames and the long tasks of a page. */
const frameCollector = `
  window.__frames = [];
  window.__longTasks = 0;
  let last = performance.now();
  const tick = (now) => { window.__frames.push(now - last); last = now; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => { window.__longTasks += list.getEntries().length; }).observe({ type: 'longtask' });
`;

/** A connection subscribed as the overview and the job list pages are, reading and dropping what it is sent. */
async function pageSubscriptions(wsUrl: string): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let ready = 0;
  const allReady = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { msg?: string };
      if (message.msg === 'ping') ws.send('{"msg":"pong"}');
      if (message.msg === 'ready' && (ready += 1) === 4) resolve();
    });
  });
  ws.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] }));
  ws.send(JSON.stringify({ msg: 'sub', id: 'stats-overview', name: 'queue.stats', params: [] }));
  ws.send(JSON.stringify({ msg: 'sub', id: 'analytics', name: 'queue.analytics', params: [{ resolution: 'minute', periods: 60 }] }));
  ws.send(JSON.stringify({ msg: 'sub', id: 'jobs', name: 'queue.jobs', params: [{ limit: 100, throttleMs: 250 }] }));
  ws.send(JSON.stringify({ msg: 'sub', id: 'stats-list', name: 'queue.stats', params: [] }));
  await allReady;
  return ws;
}

export async function benchUiLoad(options: { runs: number; jobs: number }, log: (line: string) => void): Promise<UiLoadRow[]> {
  if (!existsSync(chromiumPath)) {
    log(`  skipped: ${chromiumPath} is missing (apt-get install -y chromium, or set CHROMIUM_PATH)`);
    return [];
  }
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const without: number[] = [];
  const withUi: number[] = [];
  const withSubscriptions: number[] = [];
  const frameP50: number[] = [];
  const frameP95: number[] = [];
  const frameMax: number[] = [];
  const longTasks: number[] = [];
  try {
    for (let run = 0; run < options.runs; run += 1) {
      // Without the UI.
      const plain = await startServerProcess();
      try {
        without.push((await flow(plain, options.jobs, 'ui-bench')).jobsPerSecond);
      } finally {
        await plain.stop();
      }
      // The pages' subscriptions without a browser: the server's own share of the cost.
      const subscribed = await startServerProcess();
      const client = await pageSubscriptions(subscribed.wsUrl);
      try {
        withSubscriptions.push((await flow(subscribed, options.jobs, 'ui-bench')).jobsPerSecond);
      } finally {
        client.close();
        await subscribed.stop();
      }
      // With the overview and the live job list open.
      const server = await startServerProcess();
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        const overview = await context.newPage();
        await overview.goto(`${server.url}/`);
        const list = await context.newPage();
        await list.goto(`${server.url}/#/jobs`);
        await list.getByRole('heading', { name: /Jobs of/ }).waitFor();
        await list.evaluate(frameCollector);
        withUi.push((await flow(server, options.jobs, 'ui-bench')).jobsPerSecond);
        const { frames, tasks } = (await list.evaluate('({ frames: window.__frames.slice(1), tasks: window.__longTasks })')) as {
          frames: number[];
          tasks: number;
        };
        frameP50.push(quantile(frames, 0.5));
        frameP95.push(quantile(frames, 0.95));
        frameMax.push(Math.max(...frames));
        longTasks.push(tasks);
      } finally {
        await context.close();
        await server.stop();
      }
      log(
        `  run ${run + 1}: without the UI ${without.at(-1)?.toFixed(0)} jobs/s, its subscriptions from Node ${withSubscriptions.at(-1)?.toFixed(0)} jobs/s, ` +
          `the UI open ${withUi.at(-1)?.toFixed(0)} jobs/s; ` +
          `job list frames p50 ${frameP50.at(-1)?.toFixed(1)} ms, p95 ${frameP95.at(-1)?.toFixed(1)} ms, max ${frameMax.at(-1)?.toFixed(0)} ms, ${longTasks.at(-1)} long tasks`,
      );
    }
  } finally {
    await browser.close();
  }
  const row = (name: string, unit: string, values: number[]): UiLoadRow => ({ name, unit, runs: values, median: median(values) });
  const ratio = (values: number[]) => values.map((value, index) => value / (without[index] ?? value));
  return [
    row(`${options.jobs} jobs, no browser: throughput`, 'jobs/s', without),
    row(`${options.jobs} jobs, the pages' subscriptions from Node: throughput`, 'jobs/s', withSubscriptions),
    row(`${options.jobs} jobs, UI open: throughput`, 'jobs/s', withUi),
    row("the pages' subscriptions / none (the server's share)", 'ratio', ratio(withSubscriptions)),
    row('UI open / no browser (target ≥ 0.90)', 'ratio', ratio(withUi)),
    row('job list page: frame interval p50', 'ms', frameP50),
    row('job list page: frame interval p95', 'ms', frameP95),
    row('job list page: longest frame', 'ms', frameMax),
    row('job list page: long tasks (> 50 ms)', 'count', longTasks),
  ];
}
