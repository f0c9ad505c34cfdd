/**
 * The runs in a stream of committed changes: when a job starts running (and how long it waited
 * for that), and how each run ended — completed, failed for good, failed to be retried — with
 * its run time when its start was seen. The metrics and the analytics both count from it.
 */
import type { JobChange } from '../store/job-store.ts';

export type RunEvent =
  | { kind: 'started'; type: string; waitMs: number }
  | { kind: 'completed' | 'failed' | 'retried'; type: string; runMs: number | undefined };

/** Most running jobs whose start is remembered; beyond, runs are counted without a time. */
const maxTracked = 200_000;

export class RunTracker {
  /** When each running job was claimed, to time its run; only running jobs are kept. */
  readonly #claimedAt = new Map<string, number>();

  /** The run events of one batch of changes, in order. */
  events(changes: readonly JobChange[]): RunEvent[] {
    const events: RunEvent[] = [];
    for (const change of changes) {
      if (change.status === change.previousStatus) continue;
      if (change.status === 'running') {
        if (change.doc === undefined) continue;
        const claimed = change.doc.updated.getTime();
        if (this.#claimedAt.size < maxTracked) this.#claimedAt.set(change.id, claimed);
        events.push({ kind: 'started', type: change.type, waitMs: Math.max(0, claimed - change.doc.after.getTime()) });
        continue;
      }
      const claimed = this.#claimedAt.get(change.id);
      if (change.previousStatus === 'running') this.#claimedAt.delete(change.id);
      const kind =
        change.status === 'completed' ? 'completed'
        : change.status === 'failed' ? 'failed'
        : change.status === 'waiting' && change.previousStatus === 'running' ? 'retried'
        : undefined;
      if (kind === undefined) continue;
      const timed = change.previousStatus === 'running' && claimed !== undefined && change.doc !== undefined;
      events.push({ kind, type: change.type, runMs: timed ? Math.max(0, (change.doc?.updated.getTime() ?? 0) - claimed) : undefined });
    }
    return events;
  }
}
