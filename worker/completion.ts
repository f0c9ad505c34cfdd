/**
 * What a worker reports about a run — done, fail, log, progress — sent again after a
 * reconnect when the socket dropped before the answer came. A repeated call must not do its
 * work twice, so a retry that the server refuses (the run is no longer current) is checked
 * against the job: if the first attempt had landed, the answer is what it would have been.
 */
import type { JobDoc } from '../shared/job-doc.ts';
import type { LogLevel } from '../shared/constants.ts';
import { callJobMethod, type DoneAndNext, type OptionsOf } from './job-methods.ts';
import type { JobRoot } from './job-root.ts';
import { untilAnswered } from './until-answered.ts';

/** The run a report is about. */
export interface RunRef {
  root: JobRoot;
  id: string;
  runId: string;
}

export type DoneOptions = Omit<OptionsOf<'jobDone', 3>, 'next'>;
export type NextWork = NonNullable<OptionsOf<'jobDone', 3>['next']>;
export type FailOptions = OptionsOf<'jobFail', 3>;

async function currentDoc(run: RunRef, options: OptionsOf<'getJob'> = {}): Promise<JobDoc | undefined> {
  const doc = await callJobMethod(run.root, 'getJob', [run.id, options]);
  return doc === null || Array.isArray(doc) ? undefined : doc;
}

/**
 * `jobDone`, optionally claiming the next jobs in the same round trip (`next`). The answer is
 * normalised: `jobs` is empty when nothing was claimed, when the server does not support
 * `next`, and on a retry (which never asks for more work: what a lost first attempt claimed is
 * requeued by the server).
 */
export function sendDone(run: RunRef, result: Record<string, unknown>, options: DoneOptions, next?: NextWork): Promise<DoneAndNext> {
  return untilAnswered(run.root, async (retry) => {
    const withNext = next !== undefined && !retry;
    const answer = await callJobMethod(run.root, 'jobDone', [run.id, run.runId, result, withNext ? { ...options, next } : options]);
    const normalised = typeof answer === 'object' && answer !== null
      ? { done: answer.done, jobs: Array.isArray(answer.jobs) ? answer.jobs : [] }
      : { done: answer, jobs: [] };
    if (!retry || normalised.done !== false) return normalised;
    // Refused on a retry: had the first attempt completed this very run?
    const doc = await currentDoc(run);
    return { done: doc?.status === 'completed' && doc.runId === run.runId, jobs: [] };
  });
}

/** `jobDoneMany`'s answer, normalised as `sendDone`'s. */
export interface ManyDoneAndNext {
  done: boolean[];
  jobs: JobDoc[];
}

/**
 * `jobDoneMany`: the runs of one root completed in one call (at most `cumulusLimits.maxBatch`),
 * with one `result` for all, optionally claiming the next jobs (`next`). A run refused on a
 * retry is checked as `sendDone` checks it.
 */
export function sendDoneMany(root: JobRoot, runs: readonly Omit<RunRef, 'root'>[], result: Record<string, unknown>, next?: NextWork): Promise<ManyDoneAndNext> {
  return untilAnswered(root, async (retry) => {
    const withNext = next !== undefined && !retry;
    const calls = runs.map(({ id, runId }) => ({ id, runId, result }));
    const answer = await callJobMethod(root, 'jobDoneMany', [calls, withNext ? { next } : {}]);
    const normalised = Array.isArray(answer) ? { done: answer, jobs: [] } : { done: answer.done, jobs: Array.isArray(answer.jobs) ? answer.jobs : [] };
    if (!retry) return normalised;
    const done = await Promise.all(
      normalised.done.map(async (accepted, index) => {
        const run = runs[index];
        if (accepted || run === undefined) return accepted;
        const doc = await currentDoc({ root, ...run });
        return doc?.status === 'completed' && doc.runId === run.runId;
      }),
    );
    return { done, jobs: [] };
  });
}

export function sendFail(run: RunRef, error: Record<string, unknown>, options: FailOptions): Promise<boolean> {
  return untilAnswered(run.root, async (retry) => {
    const answer = await callJobMethod(run.root, 'jobFail', [run.id, run.runId, error, options]);
    if (!retry || answer) return answer;
    // The server records every failure with its runId: find ours.
    const doc = await currentDoc(run, { getFailures: true });
    return doc?.failures?.some((failure) => failure.runId === run.runId) ?? false;
  });
}

export function sendProgress(run: RunRef, completed: number, total: number): Promise<boolean | null> {
  // Setting the same progress twice is harmless.
  return untilAnswered(run.root, () => callJobMethod(run.root, 'jobProgress', [run.id, run.runId, completed, total, {}]));
}

export interface LogEntryOptions {
  level: LogLevel;
  data?: Record<string, unknown>;
}

/**
 * `jobLog` always succeeds for an existing job, so a retry cannot tell whether the first
 * attempt landed from its answer: it looks at the log first, and skips the retry when the
 * run's latest entry is this message already. (Logging the very same message twice in a row,
 * the second time just as the connection drops, could so lose the repeat.)
 */
export function sendLog(root: JobRoot, id: string, runId: string | null, message: string, options: LogEntryOptions): Promise<boolean> {
  return untilAnswered(root, async (retry) => {
    if (retry) {
      const doc = await currentDoc({ root, id, runId: runId ?? '' }, { getLog: true });
      if (doc === undefined) return false;
      const ours = doc.log?.filter((entry) => entry.runId === runId).at(-1);
      if (ours !== undefined && ours.message === message && ours.level === options.level) return true;
    }
    return callJobMethod(root, 'jobLog', [id, runId, message, options]);
  });
}
