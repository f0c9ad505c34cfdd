/**
 * The batch statics of `Job` (pause, resume, ready, cancel, restart, remove many jobs) and the
 * job-server switches, with meteor-job's defaults and chunking: one call per 256 ids, sent
 * together, answers OR-ed.
 */
import { methodDefaults } from '../shared/constants.ts';
import { callStyle, type WithCallback } from './callback-style.ts';
import { callJobMethod, type OptionsOf } from './job-methods.ts';
import type { JobRoot } from './job-root.ts';

/** Options of calls that take none (the server refuses any key). */
export type NoOptions = Record<string, never>;
export type ReadyOptions = OptionsOf<'jobReady'>;
export type CancelOptions = OptionsOf<'jobCancel'>;
export type RestartOptions = OptionsOf<'jobRestart'>;
export type ShutdownServerOptions = OptionsOf<'shutdownJobServer'>;

type BatchMethod = 'jobPause' | 'jobResume' | 'jobRemove' | 'jobReady' | 'jobCancel' | 'jobRestart';

/** meteor-job's chunk sizes: batch calls, and `getJobs` (whose answers are whole documents). */
export const chunkSizes = { batch: 256, getJobs: 32 } as const;

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function checkIds(ids: unknown): asserts ids is readonly string[] {
  if (!Array.isArray(ids)) throw new TypeError('ids must be an array of job ids');
}

async function batch(root: JobRoot, method: BatchMethod, ids: readonly string[], options: Record<string, unknown>, emptyMeansAll = false): Promise<boolean> {
  const parts = chunks(ids, chunkSizes.batch);
  // An empty list is a no-op, except for jobReady, where it means "every waiting job".
  if (parts.length === 0 && emptyMeansAll) parts.push([]);
  const answers = await Promise.all(parts.map((part) => callJobMethod(root, method, [part, options] as never)));
  return answers.some(Boolean);
}

/** A batch call: `f(root, ids, options?, cb?)`. */
type BatchCall<O> = WithCallback<[root: JobRoot, ids: readonly string[]], O, boolean>;

/** The job-server switches: `f(root, options?, cb?)`. */
type ServerCall<O> = WithCallback<[root: JobRoot], O, boolean>;

function batchCall<O extends object>(method: BatchMethod, defaults: Partial<O>, emptyMeansAll = false): WithCallback<[root: JobRoot, ids?: readonly string[]], O, boolean> {
  return callStyle(2, (root, ids, given) => {
    const list = ids ?? (emptyMeansAll ? [] : undefined);
    checkIds(list);
    return batch(root, method, list, { ...defaults, ...given }, emptyMeansAll);
  });
}

/** Pauses ready or waiting jobs. Answers whether any changed. */
export const pauseJobs: BatchCall<NoOptions> = batchCall('jobPause', {});

/** Resumes paused jobs. Answers whether any changed. */
export const resumeJobs: BatchCall<NoOptions> = batchCall('jobResume', {});

/** Removes cancelled, completed or failed jobs. Answers whether any were removed. */
export const removeJobs: BatchCall<NoOptions> = batchCall('jobRemove', {});

/**
 * Promotes waiting jobs to ready (`force` ignores unresolved dependencies). Without ids (or with
 * `[]`) it promotes every waiting job that is due.
 */
export const readyJobs: WithCallback<[root: JobRoot, ids?: readonly string[]], ReadyOptions, boolean> = batchCall<ReadyOptions>('jobReady', { force: false }, true);

/** Cancels jobs (and, by meteor-job's default, their antecedents; the server adds dependents). */
export const cancelJobs: BatchCall<CancelOptions> = batchCall<CancelOptions>('jobCancel', { antecedents: true });

/** Restarts failed or cancelled jobs with one more retry (and their dependents). */
export const restartJobs: BatchCall<RestartOptions> = batchCall<RestartOptions>('jobRestart', { retries: methodDefaults.restartRetries, dependents: true });

function serverCall<O extends object>(method: 'startJobServer' | 'startJobs' | 'shutdownJobServer' | 'stopJobs', defaults: Record<string, unknown>): ServerCall<O> {
  return callStyle(1, (root, given) => callJobMethod(root, method, [{ ...defaults, ...given }] as never));
}

const shutdownDefaults = { timeout: methodDefaults.shutdownTimeoutMs };

/** Lets the job server hand out work again (admin only). */
export const startJobServer: ServerCall<NoOptions> = serverCall('startJobServer', {});

/** The deprecated name of {@link startJobServer}. */
export const startJobs: ServerCall<NoOptions> = serverCall('startJobs', {});

/** Stops handing out work; running jobs are failed after `timeout` ms (default 60 s). Admin only. */
export const shutdownJobServer: ServerCall<ShutdownServerOptions> = serverCall('shutdownJobServer', shutdownDefaults);

/** The deprecated name of {@link shutdownJobServer}. */
export const stopJobs: ServerCall<ShutdownServerOptions> = serverCall('stopJobs', shutdownDefaults);
