/**
 * Change notifications of one collection root: what the worker wake-up, the claim tracker,
 * the scheduler and the live publications listen to. Today every write goes through this
 * server's store, so its commit notifications are the whole feed; a MongoDB deployment adds
 * change streams for the writes of other servers behind the same interface.
 */
import type { JobChange, JobStore } from '../store/job-store.ts';

export interface JobFeed {
  /**
   * Calls `listener` with the changes of every commit, after the commit. `name` identifies the
   * listener in the log should it throw. Answers the unsubscribe function.
   */
  subscribe(name: string, listener: (changes: readonly JobChange[]) => void): () => void;
}

export function storeFeed(store: JobStore): JobFeed {
  return { subscribe: (name, listener) => store.onCommit(listener, name) };
}
