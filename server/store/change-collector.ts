/**
 * What a batch changed in one root, for the `onCommit` listeners. Each transaction records its
 * changes as it makes them; they join the batch only if the transaction is kept, and reach the
 * listeners only once the batch is committed.
 */
import type { JobStatus } from '../../shared/constants.ts';
import type { JobChange, StoredJob } from './job-store.ts';

/** The changes of one transaction, in the order they were made. */
export class ChangeRecorder {
  readonly changes: JobChange[] = [];

  /** A change of the job `id`; `doc` is the job after it (none for a removal or a log entry alone). */
  record(id: string, type: string, previousStatus: JobStatus | null, status: JobStatus | null, doc?: StoredJob): void {
    const change: JobChange = { id, type, previousStatus, status };
    if (doc?.chain !== undefined) change.chainId = doc.chain.id;
    if (doc !== undefined) change.doc = doc;
    this.changes.push(change);
  }
}

/**
 * One change per job: the first previous status and the last status, in the order the jobs
 * were first touched. A job inserted and removed in the same batch left no trace and is omitted.
 */
export function collapseChanges(changes: readonly JobChange[]): JobChange[] {
  const byId = new Map<string, JobChange>();
  for (const change of changes) {
    const seen = byId.get(change.id);
    if (seen === undefined) {
      byId.set(change.id, { ...change });
    } else {
      seen.status = change.status;
      seen.type = change.type;
      if (change.chainId !== undefined) seen.chainId = change.chainId;
      // The latest document; a later log entry alone does not change it, a removal drops it.
      if (change.doc !== undefined) seen.doc = change.doc;
      else if (change.status === null) delete seen.doc;
    }
  }
  return [...byId.values()].filter((change) => change.previousStatus !== null || change.status !== null);
}
