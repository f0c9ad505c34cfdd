/**
 * What every job operation receives: the store of its collection root, the time, ids,
 * the job server's state, and its claims and waiting workers. Passing these in (rather than
 * importing them) keeps the operations testable without sockets or sleeping.
 */
import type { JobStore } from '../store/job-store.ts';
import type { Logger } from '../logger.ts';
import type { ClaimTracker } from './claim-tracker.ts';
import type { JobServerState } from './job-server-state.ts';
import type { OutcomeWatcher } from './outcome-watcher.ts';
import type { WorkDispatcher } from './work-dispatcher.ts';
import type { WorkerRegistry } from './worker-registry.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Bounds the operations enforce. */
export interface JobLimits {
  /** How deep jobs may call jobs: a chain submitted by a handler is one level below its parent. */
  maxChainDepth: number;
}

export const jobLimitDefaults: JobLimits = {
  maxChainDepth: 32,
};

export interface JobContext {
  readonly root: string;
  /** This server run's id, recorded with each claim (server/store/server-leases.ts). */
  readonly serverId: string;
  readonly store: JobStore;
  readonly clock: Clock;
  readonly newId: () => string;
  /** Whether the job server hands out work (jobCollection's stopped state, docs/PROTOCOL.md §2.1). */
  readonly state: JobServerState;
  readonly logger: Logger;
  /** The live connections and the jobs each runs; requeues the jobs of lost ones. */
  readonly claims: ClaimTracker;
  /** getWork calls waiting for work. */
  readonly dispatcher: WorkDispatcher;
  /** What workers reported about themselves: names and loads, for routing. */
  readonly workers: WorkerRegistry;
  /** Who awaits which chain's or job's outcome. */
  readonly watcher: OutcomeWatcher;
  readonly limits: JobLimits;
}

/**
 * Who runs an operation: a DDP connection, or the server itself. Jobs are bound to the
 * connection that claimed them, so that a connection that dies has its jobs requeued.
 */
export interface Caller {
  /** The DDP session id, or null for the server's own calls. */
  readonly connectionId: string | null;
  /** Lets the connection's next calls start while this one waits (a long-polling getWork). */
  unblock(): void;
}

export const serverCaller: Caller = { connectionId: null, unblock: () => undefined };
