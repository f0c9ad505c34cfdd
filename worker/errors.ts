/**
 * The errors the worker library adds to the server's `CumulusError` (which method calls
 * reject with): losing the connection, closing it, and a job that ended without a result.
 */
import type { JobStatus } from '../shared/constants.ts';

/**
 * The connection dropped while a call was in flight. The call may or may not have reached the
 * server: only idempotent calls should be repeated (the library retries job completions
 * itself, checking whether the first attempt landed).
 */
export class DisconnectedError extends Error {
  override name = 'DisconnectedError';
  /** The DDP method that was waiting for its answer. */
  readonly method: string;

  constructor(method: string, message = `Disconnected from the Cumulus server before '${method}' was answered`) {
    super(message);
    this.method = method;
  }
}

/** The connection was closed by `close()`; nothing more will be sent on it. */
export class ConnectionClosedError extends DisconnectedError {
  override name = 'ConnectionClosedError';

  constructor(method: string) {
    super(method, `The Cumulus connection was closed before '${method}' was answered`);
  }
}

/** A job awaited with `job.result()` / `Job.waitFor()` failed for good or was cancelled. */
export class JobFailedError extends Error {
  override name = 'JobFailedError';
  readonly jobId: string;
  readonly status: Extract<JobStatus, 'failed' | 'cancelled'>;
  /** The errors of every failed run, oldest first, each with its `runId`. */
  readonly failures: readonly Record<string, unknown>[];

  constructor(jobId: string, status: 'failed' | 'cancelled', failures: readonly Record<string, unknown>[]) {
    const last = failures.at(-1);
    const reason = last === undefined ? '' : `: ${describeFailure(last)}`;
    super(`Job ${jobId} ${status === 'failed' ? 'failed' : 'was cancelled'}${reason}`);
    this.jobId = jobId;
    this.status = status;
    this.failures = failures;
  }
}

/** The awaited job does not exist (never saved, or removed). */
export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
  readonly jobId: string;

  constructor(jobId: string, removed = false) {
    super(removed ? `Job ${jobId} was removed before it finished` : `Job ${jobId} not found`);
    this.jobId = jobId;
  }
}

/** Waiting for a job took longer than the caller allowed; the job itself goes on. */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
  readonly jobId: string;

  constructor(jobId: string, timeoutMs: number) {
    super(`Job ${jobId} did not finish within ${timeoutMs} ms (it keeps running)`);
    this.jobId = jobId;
  }
}

function describeFailure(failure: Record<string, unknown>): string {
  const text = failure.value ?? failure.message;
  return typeof text === 'string' ? text : JSON.stringify(failure);
}

/**
 * A submitted job or chain did not give its outcome within its `timeout` (seconds). The work
 * itself goes on: its final state is recorded on the server, only this caller stops waiting.
 */
export class RpcTimeoutError extends Error {
  override name = 'RpcTimeoutError';
  readonly chainId: string;
  readonly timeoutSeconds: number;

  constructor(chainId: string, timeoutSeconds: number) {
    super(`No outcome within ${timeoutSeconds} s for chain ${chainId} (the work goes on)`);
    this.chainId = chainId;
    this.timeoutSeconds = timeoutSeconds;
  }
}

/** A link of a submitted job or chain failed for good, or was cancelled: the rest did not run. */
export class RpcJobError extends Error {
  override name = 'RpcJobError';
  readonly chainId: string;
  /** The job of the link that ended the chain. */
  readonly jobId: string;
  readonly type: string;
  /** The link's place in its chain (0 for the first). */
  readonly index: number;
  readonly status: 'failed' | 'cancelled';
  /** The worker's error as the job recorded it (`{value, …}`), when the link failed. */
  readonly failure: Record<string, unknown> | undefined;

  constructor(chainId: string, link: { jobId: string; type: string; index: number; status: 'failed' | 'cancelled'; failure?: Record<string, unknown> }) {
    const reason = link.failure === undefined ? '' : `: ${describeFailure(link.failure)}`;
    super(`Job ${link.type} ${link.jobId} ${link.status === 'failed' ? 'failed' : 'was cancelled'}${reason}`);
    this.chainId = chainId;
    this.jobId = link.jobId;
    this.type = link.type;
    this.index = link.index;
    this.status = link.status;
    this.failure = link.failure;
  }
}
