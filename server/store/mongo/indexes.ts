/**
 * The indexes of a collection root, each named for the query it serves. The store creates them
 * when it opens (creating an existing index is a no-op); `mongo-init/02-indexes.js` creates the
 * same ones for operators who prepare a database ahead (a test keeps the two in step).
 *
 * The partial indexes hold only the jobs in the status their query asks for, so a million
 * finished jobs cost them nothing — the same choice as the SQLite schema.
 */
import type { Document } from 'mongodb';

export interface IndexSpec {
  /** The collection within the root: `jobs` or `chains`. */
  collection: 'jobs' | 'chains' | 'analytics';
  name: string;
  keys: Document;
  partialFilterExpression?: Document;
}

export const rootIndexes: readonly IndexSpec[] = [
  // nextReady: {status: 'ready', runId: null, type: {$in}} sorted in claim order; with several
  // types the server merges one index range per type (SORT_MERGE), no in-memory sort.
  { collection: 'jobs', name: 'claim', keys: { type: 1, priority: 1, retryUntil: 1, after: 1, created: 1, _seq: 1 }, partialFilterExpression: { status: 'ready' } },
  // nextReady with parents: the ready children of the jobs waiting for them.
  { collection: 'jobs', name: 'children', keys: { parent: 1, priority: 1, retryUntil: 1, after: 1, created: 1, _seq: 1 }, partialFilterExpression: { status: 'ready' } },
  // promotable and nextPromotionTime: waiting jobs by due time.
  { collection: 'jobs', name: 'promote', keys: { after: 1, _seq: 1 }, partialFilterExpression: { status: 'waiting' } },
  // expired: running jobs by the end of their lease.
  { collection: 'jobs', name: 'expire', keys: { expiresAfter: 1, _seq: 1 }, partialFilterExpression: { status: 'running' } },
  // dependentsOf: jobs whose pending depends name an antecedent (multikey).
  { collection: 'jobs', name: 'depends', keys: { depends: 1 } },
  // counts: covered by type and status; list by status and type.
  { collection: 'jobs', name: 'type_status', keys: { type: 1, status: 1 } },
  // list updated-desc (newest activity first, ties by _id) and created-asc.
  { collection: 'jobs', name: 'recent', keys: { updated: -1, _id: -1 } },
  { collection: 'jobs', name: 'created', keys: { created: 1, _seq: 1 } },
  // list created-desc and by priority (most urgent, then newest first).
  { collection: 'jobs', name: 'newest', keys: { created: -1, _id: -1 } },
  { collection: 'jobs', name: 'priority', keys: { priority: 1, created: -1, _id: -1 } },
  // search: every job's words (multikey), newest saved first within a word.
  { collection: 'jobs', name: 'words', keys: { _words: 1, _seq: -1 } },
  // chainsOf: the chains a job's handler submitted.
  { collection: 'chains', name: 'parent', keys: { parent: 1, _seq: 1 } },
  // readAnalytics and pruneAnalytics: a resolution's periods by start.
  { collection: 'analytics', name: 'period', keys: { resolution: 1, at: 1 } },
];
