import type { JobStatus, LogLevel, RetryBackoff } from './constants.ts';

/** A later.js schedule as meteor-job sends it: only `schedules` and `exceptions` survive. */
export interface LaterSchedule {
  schedules: Record<string, unknown>[];
  exceptions?: Record<string, unknown>[];
}

export interface JobProgress {
  completed: number;
  total: number;
  percent: number;
}

export interface JobLogEntry {
  time: Date;
  runId: string | null;
  level: LogLevel;
  message: string;
  data?: Record<string, unknown>;
}

/**
 * A stored job, the document of `<root>.jobs` (docs/PROTOCOL.md §3.1). `log` and `failures`
 * are only present when asked for; `_private` never leaves the server.
 */
export interface JobDoc {
  _id: string;
  runId: string | null;
  type: string;
  status: JobStatus;
  data: Record<string, unknown>;
  result?: Record<string, unknown>;
  failures?: Record<string, unknown>[];
  priority: number;
  depends: string[];
  resolved: string[];
  after: Date;
  updated: Date;
  created: Date;
  workTimeout?: number;
  expiresAfter?: Date;
  log?: JobLogEntry[];
  progress: JobProgress;
  retries: number;
  retried: number;
  repeatRetries?: number;
  retryUntil: Date;
  retryWait: number;
  retryBackoff: RetryBackoff;
  repeats: number;
  repeated: number;
  repeatUntil: Date;
  repeatWait: number | LaterSchedule;
  /** Cumulus: what the work is about within its type (Atmosphere's job name), e.g. `user1`. */
  name?: string;
  /** Cumulus: the chain this job is a link of, and its place in it (docs/PROTOCOL.md §7.9). */
  chain?: JobChainLink;
  /** Cumulus: the job whose handler submitted this job's chain (jobs calling jobs, §7.9). */
  parent?: string;
  /** Cumulus: who ran (or runs) the job: the worker's name and its DDP connection (§7.11). */
  worker?: JobWorkerInfo;
}

/** A job's place in its chain. */
export interface JobChainLink {
  id: string;
  /** 0 for the first link. */
  index: number;
  /** How many links the chain has. */
  length: number;
}

export interface JobWorkerInfo {
  /** The name the worker gave itself (its host and process id by default). */
  name: string;
  connection: string;
}

/** Every key of a job document, in the order documents are built and sent. */
export const jobDocKeys = [
  '_id', 'runId', 'type', 'status', 'data', 'result', 'failures', 'priority', 'depends', 'resolved',
  'after', 'updated', 'created', 'workTimeout', 'expiresAfter', 'log', 'progress', 'retries', 'retried',
  'repeatRetries', 'retryUntil', 'retryWait', 'retryBackoff', 'repeats', 'repeated', 'repeatUntil', 'repeatWait',
  'name', 'chain', 'parent', 'worker',
] as const satisfies readonly (keyof JobDoc)[];

/** The Cumulus fields only the server writes; a saved document may carry them back, they are ignored. */
export const serverManagedKeys = ['chain', 'parent', 'worker'] as const satisfies readonly (keyof JobDoc)[];
