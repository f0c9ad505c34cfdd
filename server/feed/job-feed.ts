/**
 * Change notifications of one collection root: what the worker wake-up and the live
 * publications listen to. Today every write goes through this server's store, so its commit
 * notifications are the whole feed; a MongoDB deployment adds change streams for the writes of
 * other servers behind the same interface.
 */
import type { JobChange, JobStore } from '../store/job-store.ts';

export interface JobFeed {
  subscribe(listener: (changes: readonly JobChange[]) => void): () => void;
}

export function storeFeed(store: JobStore): JobFeed {
  return { subscribe: (listener) => store.onCommit(listener) };
}
