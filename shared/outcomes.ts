/**
 * Outcomes a connection awaits (docs/PROTOCOL.md §7.12): of chains it submitted and of jobs it
 * waits for (`job.result()`, `Job.waitFor()`), delivered per connection by one waiting call.
 */
import type { ChainReport } from './chains.ts';
import type { JobStatus } from './constants.ts';

/** The statuses in which a job has an outcome to report. */
export const settledJobStatuses: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** A job's outcome: its final status with its result or failures, or its removal. */
export type JobReport =
  | { id: string; status: 'completed'; result: Record<string, unknown> }
  | { id: string; status: 'failed' | 'cancelled'; failures: Record<string, unknown>[] }
  | { id: string; status: 'removed' };

/** What `<root>_jobWatch` answers: outcomes known already, and the ids that name no job. */
export interface JobWatchAnswer {
  outcomes: JobReport[];
  missing: string[];
}

/** What `<root>_outcomes` answers: the outcomes delivered to the connection since its last call. */
export interface OutcomeBatch {
  chains: ChainReport[];
  jobs: JobReport[];
}
