/**
 * Which jobs have had their run's outcome reported (done or fail called), whoever called it:
 * the worker function itself or the queue on its behalf. A queue never reports a job twice.
 */
const reported = new WeakSet<object>();

export function markReported(job: object): void {
  reported.add(job);
}

export function isReported(job: object): boolean {
  return reported.has(job);
}
