/** The log entries the server writes into a job's log (docs/PROTOCOL.md §3.3), with their intended `data` kept (§5.10). */
import type { LogLevel } from '../../shared/constants.ts';
import type { JobLogEntry } from '../../shared/job-doc.ts';

function entry(time: Date, runId: string | null, level: LogLevel, message: string, data?: Record<string, unknown>): JobLogEntry {
  return data === undefined ? { time, runId, level, message } : { time, runId, level, message, data };
}

export const logMessages = {
  submitted: (time: Date) => entry(time, null, 'info', 'Job Submitted'),
  resubmitted: (time: Date) => entry(time, null, 'info', 'Job Resubmitted'),
  readied: (time: Date) => entry(time, null, 'info', 'Promoted to ready'),
  forced: (time: Date) => entry(time, null, 'warning', 'Dependencies force resolved'),
  running: (time: Date, runId: string) => entry(time, runId, 'info', 'Job Running'),
  paused: (time: Date) => entry(time, null, 'info', 'Job Paused'),
  resumed: (time: Date) => entry(time, null, 'info', 'Job Resumed'),
  restarted: (time: Date) => entry(time, null, 'info', 'Job Restarted'),
  cancelled: (time: Date) => entry(time, null, 'warning', 'Job Cancelled'),
  completed: (time: Date, runId: string) => entry(time, runId, 'success', 'Job Completed'),
  /** "Fatal" is written whenever the failure is final, as upstream does. */
  failed: (time: Date, runId: string, final: boolean, err: Record<string, unknown>) => {
    const value = typeof err.value === 'string' ? `: ${err.value}` : '';
    return entry(time, runId, final ? 'danger' : 'warning', `Job Failed with${final ? ' Fatal' : ''} Error${value}.`);
  },
  resolved: (time: Date, antecedentId: string, antecedentRunId: string | null) =>
    entry(time, null, 'info', 'Dependency resolved', { dependency: { id: antecedentId, runId: antecedentRunId } }),
  rerun: (time: Date, previousId: string, previousRunId: string | null) =>
    entry(time, null, 'info', 'Rerunning job', { previousJob: { id: previousId, runId: previousRunId } }),
  antecedentMissing: (time: Date, antecedentId: string) => entry(time, null, 'info', `Antecedent job ${antecedentId} missing at save`),
  antecedentFailed: (time: Date) => entry(time, null, 'info', 'Antecedent job failed before save'),
  antecedentRemoved: (time: Date, antecedentId: string) => entry(time, null, 'warning', `Antecedent job ${antecedentId} removed`),
  antecedentCancelled: (time: Date) => entry(time, null, 'info', 'Antecedent job cancelled before save'),
  requeued: (time: Date, runId: string | null) => entry(time, runId, 'warning', "Requeued: the worker's connection was lost"),
  released: (time: Date, runId: string) => entry(time, runId, 'info', 'Released: the worker gave the job back'),
} as const;

/** The `err.value` of failures the server itself causes. */
export const serverFailures = {
  shutdown: 'Running at Job Server shutdown.',
  leaseExpired: 'Failed for exceeding worker set workTimeout',
} as const;
