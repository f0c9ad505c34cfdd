/**
 * What every job operation receives: the store of its collection root, the time, ids,
 * and the server's run state. Passing these in (rather than
 * importing them) keeps the operations testable without sockets or sleeping.
 */
import type { JobStore } from '../store/job-store.ts';
import type { Logger } from '../logger.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Whether the job server of a root hands out work (jobCollection's stopped state, §2.1). */
export interface RunState {
  stopped: boolean;
  /** Pending "fail running jobs" timer of a shutdown, if any. */
  shutdownTimer: NodeJS.Timeout | undefined;
}

export interface JobContext {
  readonly root: string;
  readonly store: JobStore;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly state: RunState;
  readonly logger: Logger;
}
