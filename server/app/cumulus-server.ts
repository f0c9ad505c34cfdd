/**
 * The composition root: opens the stores, builds each collection root's runtime, binds its
 * methods and publications onto one DDP server, and starts and stops them in order. Every
 * step registers its undoing as soon as it has succeeded, so a failure half-way through the
 * start closes what was opened, and `stop()` closes everything in reverse.
 */
import type { AddressInfo } from 'node:net';
import { Authenticator } from '../auth/authenticator.ts';
import { registerLoginMethods } from '../auth/login-methods.ts';
import type { Config } from '../config.ts';
import { DdpServer } from '../ddp/index.ts';
import { storeFeed } from '../feed/job-feed.ts';
import { createHttpServer } from '../http/http-server.ts';
import { upgradeRefusal } from '../http/origin-policy.ts';
import { createCollectionRuntime, type Clock, type CollectionRuntime, type JobContext } from '../jobs/index.ts';
import type { Logger } from '../logger.ts';
import { ServerMetrics } from '../metrics/server-metrics.ts';
import { registerJobPublication } from '../publications/job-publication.ts';
import { registerJobsPublication } from '../publications/jobs-publication.ts';
import { LiveJobs } from '../publications/live-jobs.ts';
import { LiveStats } from '../publications/live-stats.ts';
import { registerStatsPublication } from '../publications/stats-publication.ts';
import { registerAnalyticsPublication } from '../publications/analytics-publication.ts';
import { AnalyticsRecorder } from '../analytics/analytics-recorder.ts';
import { registerWorkersPublication } from '../publications/workers-publication.ts';
import type { JobStore } from '../store/job-store.ts';
import { openStores, type StoreOpener } from '../store/open-store.ts';
import { registerJobMethods } from './job-methods.ts';
import { Teardown } from './teardown.ts';

export interface ServerDeps {
  logger: Logger;
  clock?: Clock;
  /** How the stores are opened (default: from `DATABASE_URL`); tests give an in-memory MongoDB this way. */
  openStores?: StoreOpener;
}

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  /** Job contexts by root, for tests and tools in the same process. */
  contexts: ReadonlyMap<string, JobContext>;
  /** Stops accepting, lets in-flight methods finish, then closes the store. */
  stop(): Promise<void>;
}

export async function startServer(config: Config, deps: ServerDeps): Promise<RunningServer> {
  const teardown = new Teardown();
  try {
    return await start(config, deps, teardown);
  } catch (error) {
    await teardown.run().catch((closeError: unknown) => deps.logger.error({ err: closeError }, 'closing after a failed start failed'));
    throw error;
  }
}

async function start(config: Config, deps: ServerDeps, teardown: Teardown): Promise<RunningServer> {
  const { logger } = deps;
  const opened = await (deps.openStores ?? openStores)(config.databaseUrl, config.roots, { logger, mongo: config.mongo });
  teardown.add('the store', () => opened.close());

  const auth = new Authenticator(config.tokens);
  let sessions = () => 0;
  const metrics = new ServerMetrics(() => sessions());
  opened.onCommitBatch((transactions, seconds) => metrics.batchCommitted(transactions, seconds));
  const ddp = new DdpServer({
    onMethodDone: (name, seconds, outcome) => metrics.methodDone(name, seconds, outcome),
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    maxMessageBytes: config.maxMessageBytes,
    maxBufferedBytes: config.maxBufferedBytes,
    slowClientTimeoutMs: config.slowClientTimeoutMs,
    logger,
    checkUpgrade: (request) => upgradeRefusal(request, { allowedOrigins: config.allowedOrigins, authEnabled: config.tokens.size > 0 }),
  });
  sessions = () => ddp.connectionCount;
  registerLoginMethods(ddp, auth);

  const runtimes: CollectionRuntime[] = [];
  for (const root of config.roots) {
    const store = opened.stores.get(root);
    if (store === undefined) throw new Error(`no store opened for collection ${root}`);
    const rootLogger = logger.child({ root });
    const feed = storeFeed(store);
    const runtime = createCollectionRuntime(
      { root, store, feed, logger: rootLogger, leases: opened.leases, ...(deps.clock === undefined ? {} : { clock: deps.clock }) },
      {
        requeueGraceMs: config.requeueGraceMs,
        scheduler: { promoteIntervalMs: config.promoteIntervalMs },
        limits: { maxChainDepth: config.maxChainDepth },
      },
    );
    registerJobMethods(ddp, runtime.ctx, auth);
    teardown.add(`the metrics of ${root}`, metrics.watchCollection(root, store, feed, () => runtime.ctx.workers.size));
    const liveDeps = { store, feed, logger: rootLogger, pacing: config.publications };
    const live = new LiveJobs(liveDeps);
    const stats = new LiveStats(liveDeps);
    teardown.add(`the publications of ${root}`, () => {
      live.close();
      stats.close();
    });
    registerJobsPublication(ddp, { root, auth, live });
    registerStatsPublication(ddp, { root, auth, stats });
    registerJobPublication(ddp, { root, auth, store, feed, logger: rootLogger, throttleMs: config.publications.throttleMs });
    registerWorkersPublication(ddp, { root, auth, workers: runtime.ctx.workers, claims: runtime.ctx.claims, refreshMs: 1000 });
    const recorder = new AnalyticsRecorder({ store, feed, clock: runtime.ctx.clock, logger: rootLogger, flushMs: config.analyticsFlushMs });
    await recorder.start();
    teardown.add(`the analytics of ${root}`, () => recorder.close());
    registerAnalyticsPublication(ddp, { root, auth, recorder, clock: runtime.ctx.clock });
    runtimes.push(runtime);
  }
  // Claims are bound to connections: each root learns of every connection, and of its end.
  ddp.onConnect((connection) => {
    for (const runtime of runtimes) {
      runtime.connectionOpened(connection.id);
      connection.onClose(() => runtime.connectionClosed(connection.id));
    }
  });

  let closing = false;
  let ready = false;
  const stores = [...opened.stores.values()];
  const http = createHttpServer({
    roots: config.roots,
    health: () => storeHealth(stores, () => closing),
    ready: () => ready && !closing,
    metrics: () => metrics.exposition(),
    uiFailed: (error) => logger.error({ err: error }, 'the web UI could not be built'),
  });
  ddp.attach(http);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  teardown.add('the network', async () => {
    const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
    // In-flight methods finish (bounded by the grace), then every socket closes.
    await ddp.close(config.shutdownGraceMs);
    http.closeAllConnections();
    await httpClosed;
  });

  for (const runtime of runtimes) {
    runtime.start();
    // Stopped first at shutdown: waiting getWork calls are answered, so in-flight methods drain at once.
    teardown.add(`the runtime of ${runtime.ctx.root}`, () => runtime.stop());
  }

  ready = true;
  const port = (http.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    contexts: new Map(runtimes.map((runtime) => [runtime.ctx.root, runtime.ctx])),
    stop() {
      // A second call (SIGINT after SIGTERM, say) waits for the same shutdown.
      stopping ??= (() => {
        closing = true;
        return teardown.run();
      })();
      return stopping;
    },
  };
}

/** Why the server cannot serve, if it cannot: shutting down, or a store that fails a real read. */
async function storeHealth(stores: readonly JobStore[], closing: () => boolean): Promise<string | undefined> {
  if (closing()) return 'shutting down';
  try {
    // A read by id that finds nothing: a real query, as cheap as one can be.
    await Promise.all(stores.map((store) => store.getJobs(['healthz'])));
    return undefined;
  } catch (error) {
    return `the store does not answer: ${error instanceof Error ? error.message : String(error)}`;
  }
}
