/**
 * The batch statics of `Job` (pause, resume, ready, cancel, restart, remove many jobs) and the
 * job-server switches, with meteor-job's defaults and chunking: one call per 256 ids, sent
 * together, answers OR-ed.
 */
import { methodDefaults } from '../shared/constants.ts';
import { attempt, deliver, optionsAndCallback, type NodeCallback } from './callback-style.ts';
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

function batchCall<O extends object>(method: BatchMethod, defaults: Partial<O>, emptyMeansAll = false) {
  return (root: JobRoot, ids: readonly string[] | undefined, options: O | NodeCallback<boolean> | undefined, cb: NodeCallback<boolean> | undefined) => {
    const [given, callback] = optionsAndCallback<O, boolean>(options, cb);
    return deliver(attempt(() => {
      const list = ids ?? (emptyMeansAll ? [] : undefined);
      checkIds(list);
      return batch(root, method, list, { ...defaults, ...given }, emptyMeansAll);
    }), callback);
  };
}

const pause = batchCall<NoOptions>('jobPause', {});
const resume = batchCall<NoOptions>('jobResume', {});
const remove = batchCall<NoOptions>('jobRemove', {});
const ready = batchCall<ReadyOptions>('jobReady', { force: false }, true);
const cancel = batchCall<CancelOptions>('jobCancel', { antecedents: true });
const restart = batchCall<RestartOptions>('jobRestart', { retries: methodDefaults.restartRetries, dependents: true });

/** Pauses ready or waiting jobs. Answers whether any changed. */
export function pauseJobs(root: JobRoot, ids: readonly string[], options?: NoOptions): Promise<boolean>;
export function pauseJobs(root: JobRoot, ids: readonly string[], cb: NodeCallback<boolean>): void;
export function pauseJobs(root: JobRoot, ids: readonly string[], options: NoOptions, cb: NodeCallback<boolean>): void;
export function pauseJobs(root: JobRoot, ids: readonly string[], options?: NoOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return pause(root, ids, options, cb);
}

/** Resumes paused jobs. Answers whether any changed. */
export function resumeJobs(root: JobRoot, ids: readonly string[], options?: NoOptions): Promise<boolean>;
export function resumeJobs(root: JobRoot, ids: readonly string[], cb: NodeCallback<boolean>): void;
export function resumeJobs(root: JobRoot, ids: readonly string[], options: NoOptions, cb: NodeCallback<boolean>): void;
export function resumeJobs(root: JobRoot, ids: readonly string[], options?: NoOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return resume(root, ids, options, cb);
}

/** Removes cancelled, completed or failed jobs. Answers whether any were removed. */
export function removeJobs(root: JobRoot, ids: readonly string[], options?: NoOptions): Promise<boolean>;
export function removeJobs(root: JobRoot, ids: readonly string[], cb: NodeCallback<boolean>): void;
export function removeJobs(root: JobRoot, ids: readonly string[], options: NoOptions, cb: NodeCallback<boolean>): void;
export function removeJobs(root: JobRoot, ids: readonly string[], options?: NoOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return remove(root, ids, options, cb);
}

/**
 * Promotes waiting jobs to ready (`force` ignores unresolved dependencies). Without ids (or with
 * `[]`) it promotes every waiting job that is due.
 */
export function readyJobs(root: JobRoot, ids?: readonly string[], options?: ReadyOptions): Promise<boolean>;
export function readyJobs(root: JobRoot, ids: readonly string[], cb: NodeCallback<boolean>): void;
export function readyJobs(root: JobRoot, ids: readonly string[], options: ReadyOptions, cb: NodeCallback<boolean>): void;
export function readyJobs(root: JobRoot, ids?: readonly string[], options?: ReadyOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return ready(root, ids, options, cb);
}

/** Cancels jobs (and, by meteor-job's default, their antecedents; the server adds dependents). */
export function cancelJobs(root: JobRoot, ids: readonly string[], options?: CancelOptions): Promise<boolean>;
export function cancelJobs(root: JobRoot, ids: readonly string[], cb: NodeCallback<boolean>): void;
export function cancelJobs(root: JobRoot, ids: readonly string[], options: CancelOptions, cb: NodeCallback<boolean>): void;
export function cancelJobs(root: JobRoot, ids: readonly string[], options?: CancelOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return cancel(root, ids, options, cb);
}

/** Restarts failed or cancelled jobs with one more retry (and their dependents). */
export function restartJobs(root: JobRoot, ids: readonly string[], options?: RestartOptions): Promise<boolean>;
export function restartJobs(root: JobRoot, ids: readonly string[], cb: NodeCallback<boolean>): void;
export function restartJobs(root: JobRoot, ids: readonly string[], options: RestartOptions, cb: NodeCallback<boolean>): void;
export function restartJobs(root: JobRoot, ids: readonly string[], options?: RestartOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return restart(root, ids, options, cb);
}

function serverCall(method: 'startJobServer' | 'startJobs' | 'shutdownJobServer' | 'stopJobs', defaults: Record<string, unknown>) {
  return (root: JobRoot, options: object | NodeCallback<boolean> | undefined, cb: NodeCallback<boolean> | undefined) => {
    const [given, callback] = optionsAndCallback<object, boolean>(options, cb);
    return deliver(attempt(() => callJobMethod(root, method, [{ ...defaults, ...given }] as never)), callback);
  };
}

const shutdownDefaults = { timeout: methodDefaults.shutdownTimeoutMs };
const startServer = serverCall('startJobServer', {});
const startOld = serverCall('startJobs', {});
const stopServer = serverCall('shutdownJobServer', shutdownDefaults);
const stopOld = serverCall('stopJobs', shutdownDefaults);

/** Lets the job server hand out work again (admin only). */
export function startJobServer(root: JobRoot, options?: NoOptions): Promise<boolean>;
export function startJobServer(root: JobRoot, cb: NodeCallback<boolean>): void;
export function startJobServer(root: JobRoot, options: NoOptions, cb: NodeCallback<boolean>): void;
export function startJobServer(root: JobRoot, options?: NoOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return startServer(root, options, cb);
}

/** The deprecated name of {@link startJobServer}. */
export function startJobs(root: JobRoot, options?: NoOptions): Promise<boolean>;
export function startJobs(root: JobRoot, cb: NodeCallback<boolean>): void;
export function startJobs(root: JobRoot, options: NoOptions, cb: NodeCallback<boolean>): void;
export function startJobs(root: JobRoot, options?: NoOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return startOld(root, options, cb);
}

/** Stops handing out work; running jobs are failed after `timeout` ms (default 60 s). Admin only. */
export function shutdownJobServer(root: JobRoot, options?: ShutdownServerOptions): Promise<boolean>;
export function shutdownJobServer(root: JobRoot, cb: NodeCallback<boolean>): void;
export function shutdownJobServer(root: JobRoot, options: ShutdownServerOptions, cb: NodeCallback<boolean>): void;
export function shutdownJobServer(root: JobRoot, options?: ShutdownServerOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return stopServer(root, options, cb);
}

/** The deprecated name of {@link shutdownJobServer}. */
export function stopJobs(root: JobRoot, options?: ShutdownServerOptions): Promise<boolean>;
export function stopJobs(root: JobRoot, cb: NodeCallback<boolean>): void;
export function stopJobs(root: JobRoot, options: ShutdownServerOptions, cb: NodeCallback<boolean>): void;
export function stopJobs(root: JobRoot, options?: ShutdownServerOptions | NodeCallback<boolean>, cb?: NodeCallback<boolean>): Promise<boolean> | void {
  return stopOld(root, options, cb);
}
