/**
 * Waiting on a JobQueue's events, so tests wait for what happened rather than poll for it.
 * Listen before causing the events: they are not replayed.
 */
import type { JobData, JobQueue, JobQueueEvents } from '../../../worker/index.ts';

/** Resolves with the arguments of the next `count` `event`s of `queue`; rejects after `timeoutMs`. */
export function nextEvents<D extends JobData, E extends keyof JobQueueEvents<D>>(
  queue: JobQueue<D>,
  event: E,
  count = 1,
  timeoutMs = 10_000,
): Promise<Parameters<JobQueueEvents<D>[E]>[]> {
  type Args = Parameters<JobQueueEvents<D>[E]>;
  const seen: Args[] = [];
  return new Promise((resolve, reject) => {
    const listener = ((...args: Args) => {
      seen.push(args);
      if (seen.length < count) return;
      clearTimeout(timer);
      queue.off(event, listener);
      resolve(seen);
    }) as JobQueueEvents<D>[E];
    const timer = setTimeout(() => {
      queue.off(event, listener);
      reject(new Error(`JobQueue: ${seen.length} of ${count} '${String(event)}' events within ${timeoutMs} ms`));
    }, timeoutMs);
    queue.on(event, listener);
  });
}

/** Resolves with the arguments of the next `event` of `queue`. */
export async function nextEvent<D extends JobData, E extends keyof JobQueueEvents<D>>(
  queue: JobQueue<D>,
  event: E,
  timeoutMs?: number,
): Promise<Parameters<JobQueueEvents<D>[E]>> {
  const [args] = await nextEvents(queue, event, 1, timeoutMs);
  return args as Parameters<JobQueueEvents<D>[E]>;
}
