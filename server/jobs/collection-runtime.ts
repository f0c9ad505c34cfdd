/**
 * Everything that runs for one collection root besides its store: the job context the
 * operations receive, the claim tracker, the waiting getWork calls, and the promotion loop,
 * built together from one factory so the server and the tests wire them the same way.
 */
import { randomId } from '../../shared/random-id.ts';
import type { JobFeed } from '../feed/job-feed.ts';
import type { Logger } from '../logger.ts';
import type { JobStore } from '../store/job-store.ts';
import { type ServerLeases, SoleServerLeases } from '../store/server-leases.ts';
import { ClaimTracker } from './claim-tracker.ts';
import { requeueLostRuns } from './claims.ts';
import { jobLimitDefaults, systemClock, type Clock, type JobContext, type JobLimits } from './context.ts';
import { JobServerState } from './job-server-state.ts';
import { OrphanSweep } from './orphan-sweep.ts';
import { OutcomeWatcher, type OutcomeWatcherOptions } from './outcome-watcher.ts';
import { PromotionScheduler, type SchedulerOptions } from './scheduler.ts';
import { WorkDispatcher, type WorkDispatcherOptions } from './work-dispatcher.ts';
import { WorkerRegistry } from './worker-registry.ts';

export interface CollectionRuntimeOptions {
  /** How long a lost connection's running jobs stay claimed before they are requeued (ms). */
  requeueGraceMs: number;
  /**
   * The promotion loop's settings; `false` runs none (promotion then happens only through the
   * operations themselves: saves, completions, `jobReady`), for tests that drive time by hand.
   */
  scheduler: Partial<SchedulerOptions> | false;
  dispatcher?: Partial<WorkDispatcherOptions>;
  watcher?: Partial<OutcomeWatcherOptions>;
  limits?: Partial<JobLimits>;
  /** Start stopped, as upstream's job server does (default: running). */
  stopped?: boolean;
}

export interface CollectionRuntimeDeps {
  root: string;
  store: JobStore;
  /** The root's change feed: commits of this server (and, with a shared database, of others). */
  feed: JobFeed;
  logger: Logger;
  clock?: Clock;
  newId?: () => string;
  /**
   * Which servers share the database and which leads this root (default: this server alone,
   * as on a SQLite file). Only the leader promotes, expires leases and sweeps gone servers' claims.
   */
  leases?: ServerLeases;
}

export interface CollectionRuntime {
  readonly ctx: JobContext;
  /** Starts following the feed, the sweep of gone servers' claims, and the promotion loop. */
  start(): void;
  /** A DDP connection completed its handshake: its claims are its own from now on. */
  connectionOpened(connectionId: string): void;
  /** A DDP connection closed: its waiting getWork calls are answered, its jobs requeued after the grace. */
  connectionClosed(connectionId: string): void;
  /**
   * Answers the waiting getWork calls, stops the timers and waits for work in progress. The
   * store stays open: in-flight methods may still use it. Idempotent.
   */
  stop(): Promise<void>;
}

export function createCollectionRuntime(deps: CollectionRuntimeDeps, options: CollectionRuntimeOptions): CollectionRuntime {
  const { feed } = deps;
  const logger = deps.logger;
  const state = new JobServerState(options.stopped ?? false);
  const leases = deps.leases ?? new SoleServerLeases();
  const leadership = leases.leadership(`scheduler:${deps.root}`);
  // The tracker and the operations need each other: the requeue reaches the context when called.
  const claims = new ClaimTracker({
    graceMs: options.requeueGraceMs,
    feed,
    logger,
    requeue: (isLost, jobIds) => requeueLostRuns(ctx, isLost, jobIds),
  });
  const workers = new WorkerRegistry();
  const dispatcher = new WorkDispatcher({
    feed,
    load: (connectionId) => workers.load(connectionId, claims.load(connectionId)),
    logger,
    ...(options.dispatcher === undefined ? {} : { options: options.dispatcher }),
  });
  const watcher = new OutcomeWatcher({
    feed,
    store: deps.store,
    logger,
    isLive: (connectionId) => claims.isLive(connectionId),
    ...(options.watcher === undefined ? {} : { options: options.watcher }),
  });
  const ctx: JobContext = {
    root: deps.root,
    serverId: leases.serverId,
    store: deps.store,
    clock: deps.clock ?? systemClock,
    newId: deps.newId ?? (() => randomId()),
    state,
    logger,
    claims,
    dispatcher,
    workers,
    watcher,
    limits: { ...jobLimitDefaults, ...options.limits },
  };
  const scheduler = options.scheduler === false ? undefined : new PromotionScheduler(ctx, feed, leadership, options.scheduler);
  const orphans = new OrphanSweep({
    leases,
    leadership,
    graceMs: options.requeueGraceMs,
    requeue: (isLost) => requeueLostRuns(ctx, isLost),
    logger,
  });
  // A server that becomes the leader sweeps at once.
  const stopFollowingLeadership = leadership.onChange((held) => {
    if (held) orphans.sweep();
  });
  // Waiting getWork calls would otherwise hold their workers until their waitMs.
  const stopFollowingState = state.onChange((stopped) => {
    if (stopped) dispatcher.answerAll();
  });
  let stopping: Promise<void> | undefined;

  return {
    ctx,
    start() {
      claims.start();
      orphans.start();
      dispatcher.start();
      watcher.start();
      scheduler?.start();
    },
    connectionOpened: (connectionId) => claims.connected(connectionId),
    connectionClosed(connectionId) {
      dispatcher.connectionClosed(connectionId);
      watcher.connectionClosed(connectionId);
      workers.connectionClosed(connectionId);
      claims.closed(connectionId);
    },
    stop() {
      stopping ??= (async () => {
        dispatcher.close();
        watcher.close();
        stopFollowingState();
        stopFollowingLeadership();
        // Pending requeues and the shutdown deadline are dropped: the next start requeues their
        // jobs as orphans.
        state.dispose();
        await Promise.all([scheduler?.stop(), claims.stop(), orphans.stop()]);
      })();
      return stopping;
    },
  };
}
