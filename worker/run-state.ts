/**
 * What became of a run's report, whoever made it: the worker function itself or the queue on
 * its behalf. A queue never reports a job twice, and learns when the server accepted a done
 * or fail (to tell its `completed` and `failed` listeners).
 */

/** A run's outcome as reported and accepted: done with its result, or failed with its error. */
export type RunOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

const reported = new WeakSet<object>();
const observers = new WeakMap<object, (outcome: RunOutcome) => void>();

/** done or fail was called for the job's run. */
export function markReported(job: object): void {
  reported.add(job);
}

export function isReported(job: object): boolean {
  return reported.has(job);
}

/** Calls `observer` (which must not throw) once the server accepts the job's done or fail. */
export function observeRun(job: object, observer: (outcome: RunOutcome) => void): void {
  observers.set(job, observer);
}

/** The server accepted the job's done or fail. */
export function runAccepted(job: object, outcome: RunOutcome): void {
  const observer = observers.get(job);
  observers.delete(job);
  observer?.(outcome);
}
