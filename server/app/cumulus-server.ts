/**
 * The composition root: opens the stores, wires every collection root's operations,
 * scheduler, claims and publications onto one DDP server, and starts and stops them in order.
 */
import type { AddressInfo } from 'node:net';
import { randomId } from '../../shared/random-id.ts';
import { Authenticator } from '../auth/authenticator.ts';
import { registerLoginMethods } from '../auth/login-methods.ts';
import type { Config } from '../config.ts';
import { DdpServer } from '../ddp/index.ts';
import { storeFeed, type JobFeed } from '../feed/job-feed.ts';
import { createHttpServer } from '../http/http-server.ts';
import { upgradeRefusal } from '../http/origin-policy.ts';
import { ClaimTracker, PromotionScheduler, systemClock, WorkDispatcher, type Clock, type JobContext } from '../jobs/index.ts';
import type { Logger } from '../logger.ts';
import { registerJobsPublication } from '../publications/jobs-publication.ts';
import { registerStatsPublication } from '../publications/stats-publication.ts';
import { openStores } from '../store/open-store.ts';
import { registerJobMethods } from './job-methods.ts';

export interface ServerDeps {
  logger: Logger;
  clock?: Clock;
  /** Throttle of live publications (ms). */
  publicationThrottleMs?: number;
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
  const { logger } = deps;
  const opened = await openStores(config.databaseUrl, config.roots);
  const auth = new Authenticator(config.tokens);
  const ddp = new DdpServer({
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    maxMessageBytes: config.maxMessageBytes,
    logger,
    checkUpgrade: (request) => upgradeRefusal(request, { allowedOrigins: config.allowedOrigins, authEnabled: config.tokens.size > 0 }),
  });
  registerLoginMethods(ddp, auth);

  const contexts = new Map<string, JobContext>();
  const feeds = new Map<JobContext, JobFeed>();
  const schedulers: PromotionScheduler[] = [];
  for (const root of config.roots) {
    const store = opened.stores.get(root);
    if (store === undefined) throw new Error(`no store opened for collection ${root}`);
    const rootLogger = logger.child({ root });
    const claims = new ClaimTracker({ graceMs: config.requeueGraceMs });
    const ctx: JobContext = {
      root,
      store,
      clock: deps.clock ?? systemClock,
      newId: () => randomId(),
      state: { stopped: false, shutdownTimer: undefined },
      logger: rootLogger,
      claims,
      dispatcher: new WorkDispatcher({ load: (connectionId) => claims.load(connectionId), logger: rootLogger }),
    };
    const scheduler = new PromotionScheduler(ctx, { promoteIntervalMs: config.promoteIntervalMs });
    registerJobMethods(ddp, ctx, auth, { onStarted: () => scheduler.runPass() });
    const feed = storeFeed(store);
    const publicationDeps = { root, store, feed, auth, logger, throttleMs: deps.publicationThrottleMs ?? 50 };
    registerJobsPublication(ddp, publicationDeps);
    registerStatsPublication(ddp, publicationDeps);
    contexts.set(root, ctx);
    feeds.set(ctx, feed);
    schedulers.push(scheduler);
  }
  // Claims are bound to connections: each root learns of every connection, and of its end.
  ddp.onConnect((connection) => {
    for (const ctx of contexts.values()) {
      ctx.claims.connected(connection.id);
      connection.onClose(() => {
        ctx.dispatcher.connectionClosed(connection.id);
        ctx.claims.closed(connection.id);
      });
    }
  });

  let closing = false;
  let stopping: Promise<void> | undefined;
  const http = createHttpServer({ roots: config.roots, healthy: () => !closing });
  ddp.attach(http);
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await opened.close();
    throw error;
  }
  for (const scheduler of schedulers) scheduler.start();
  for (const [ctx, feed] of feeds) {
    ctx.claims.start(ctx, feed);
    ctx.dispatcher.start(feed);
  }
  const port = (http.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  /** Stops in order: answer waiting workers, stop accepting and drain methods, then timers, then the store. */
  const shutDown = async (): Promise<void> => {
    closing = true;
    // Waiting getWork calls are answered first, so that in-flight methods drain at once.
    for (const ctx of contexts.values()) ctx.dispatcher.close();
    const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
    await ddp.close(config.shutdownGraceMs);
    http.closeAllConnections();
    await httpClosed;
    await Promise.all(schedulers.map((s) => s.stop()));
    // Pending requeues are dropped: the next start requeues their jobs as orphans.
    await Promise.all([...contexts.values()].map((ctx) => ctx.claims.stop()));
    for (const ctx of contexts.values()) {
      if (ctx.state.shutdownTimer !== undefined) clearTimeout(ctx.state.shutdownTimer);
    }
    await opened.close();
  };

  return {
    url: `http://${host}:${port}`,
    port,
    contexts,
    stop() {
      // A second call (SIGINT after SIGTERM, say) waits for the same shutdown.
      stopping ??= shutDown();
      return stopping;
    },
  };
}
