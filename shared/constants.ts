/**
 * Constants of the job-collection model, as meteor-job and jobCollection define them.
 * Both the server and the worker library import these; nothing here does I/O.
 */

/** "Unlimited" for retries and repeats: 2^53, the value meteor-job sends. */
export const forever = 2 ** 53;

/** The latest representable Date; "no deadline". */
export const foreverDate = new Date(8640000000000000);

export const jobPriorities = {
  low: 10,
  normal: 0,
  medium: -5,
  high: -10,
  critical: -15,
} as const;
export type JobPriorityName = keyof typeof jobPriorities;

export const jobRetryBackoffMethods = ['constant', 'exponential'] as const;
export type RetryBackoff = (typeof jobRetryBackoffMethods)[number];

export const jobLogLevels = ['info', 'success', 'warning', 'danger'] as const;
export type LogLevel = (typeof jobLogLevels)[number];

export const jobStatuses = ['waiting', 'paused', 'ready', 'running', 'failed', 'cancelled', 'completed'] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** Which statuses each action applies to (docs/PROTOCOL.md §3.2). */
export const jobStatusCancellable: readonly JobStatus[] = ['running', 'ready', 'waiting', 'paused'];
export const jobStatusPausable: readonly JobStatus[] = ['ready', 'waiting'];
export const jobStatusRemovable: readonly JobStatus[] = ['cancelled', 'completed', 'failed'];
export const jobStatusRestartable: readonly JobStatus[] = ['cancelled', 'failed'];

/** Statuses a job can be saved in by `jobSave`. */
export const jobStatusSavable: readonly JobStatus[] = ['waiting', 'paused'];

/** The default collection root; methods are named `<root>_<method>`. */
export const defaultRoot = 'queue';

/** Job documents of a root travel in this DDP collection. */
export function jobsCollectionName(root: string): string {
  return `${root}.jobs`;
}

/** One job with its log, as `<root>.job` publishes it, travels in this DDP collection. */
export function jobCollectionName(root: string): string {
  return `${root}.job`;
}

/** The log entries of the job `<root>.job` publishes travel in this DDP collection, one document each. */
export function jobLogCollectionName(root: string): string {
  return `${root}.jobLog`;
}

/** The workers connected to a root travel in this DDP collection. */
export function workersCollectionName(root: string): string {
  return `${root}.workers`;
}

/** The analytics of a root (per type and minute or hour) travel in this DDP collection. */
export function analyticsCollectionName(root: string): string {
  return `${root}.analytics`;
}

/** Queue statistics of a root travel in this DDP collection. */
export function statsCollectionName(root: string): string {
  return `${root}.stats`;
}

/** Defaults of the method options (docs/PROTOCOL.md §2.3). */
export const methodDefaults = {
  shutdownTimeoutMs: 60_000,
  restartRetries: 1,
} as const;

/** A retry wait and repeat wait default to five minutes, as in meteor-job. */
export const defaultWaitMs = 5 * 60 * 1000;

/** How long a closing DDP socket gets for its close handshake before it is cut, on either side. */
export const closeHandshakeMs = 1_000;
