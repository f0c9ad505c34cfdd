/**
 * What a batch changed in one root, for the `onCommit` listeners. Each transaction records its
 * changes as it makes them; they join the batch only if the transaction is kept, and reach the
 * listeners only once the batch is committed.
 */
import type { JobStatus } from '../../../shared/constants.ts';
import type { JobChange } from '../job-store.ts';

/** The changes of one transaction, in the order they were made. */
export class ChangeRecorder {
  readonly changes: JobChange[] = [];

  record(id: string, type: string, previousStatus: JobStatus | null, status: JobStatus | null, chainId?: string): void {
    this.changes.push(chainId === undefined ? { id, type, previousStatus, status } : { id, type, previousStatus, status, chainId });
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
    }
  }
  return [...byId.values()].filter((change) => change.previousStatus !== null || change.status !== null);
}
