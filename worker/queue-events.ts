/**
 * The events of a `JobQueue`, typed, and the emitter behind them. A listener that throws stops
 * neither the other listeners nor the queue: its error goes where the queue's errors go.
 */
import { EventEmitter } from 'node:events';
import type { JobData } from './job-builder.ts';
import type { Job } from './job.ts';

/**
 * What a `JobQueue` tells its listeners (`queue.on(event, listener)`).
 *
 * `error` reaches its listeners only: unlike an `EventEmitter`'s, an `error` nobody listens to
 * throws nothing (`errorCallback`, by default a process warning, receives every error anyway).
 */
export interface JobQueueEvents<D extends JobData = JobData> {
  /** A worker call started, with its jobs (one, or up to `payload`). */
  active: (jobs: readonly Job<D>[]) => void;
  /** The server accepted a job's done (the worker's own, or the queue's with what the worker answered). */
  completed: (job: Job<D>, result: unknown) => void;
  /** The server accepted a job's fail (the worker's own, the queue's for a worker that threw, or a shutdown's). */
  failed: (job: Job<D>, error: unknown) => void;
  /** The errors `errorCallback` receives. */
  error: (error: Error) => void;
  /** Nothing is queued or running any more. */
  idle: () => void;
  /** `pause()` or a shutdown stopped the queue. */
  paused: () => void;
  /** `resume()` started it again. */
  resumed: () => void;
}

/** The name of a queue event. */
export type QueueEventName = keyof JobQueueEvents;

/** A queue's listeners, kept by an EventEmitter that the queue never lets throw. */
export class QueueEvents<D extends JobData> {
  readonly #emitter = new EventEmitter();

  on<E extends QueueEventName>(event: E, listener: JobQueueEvents<D>[E]): void {
    this.#emitter.on(event, listener);
  }

  once<E extends QueueEventName>(event: E, listener: JobQueueEvents<D>[E]): void {
    this.#emitter.once(event, listener);
  }

  off<E extends QueueEventName>(event: E, listener: JobQueueEvents<D>[E]): void {
    this.#emitter.off(event, listener);
  }

  listens(event: QueueEventName): boolean {
    return this.#emitter.listenerCount(event) > 0;
  }

  /** Calls each listener of `event`; one that throws is given to `onError`, and the others still run. */
  emit<E extends QueueEventName>(event: E, onError: (error: unknown) => void, ...args: Parameters<JobQueueEvents<D>[E]>): void {
    // The raw listeners, so that a `once` listener is removed as it is called.
    for (const listener of this.#emitter.rawListeners(event) as ((...given: unknown[]) => void)[]) {
      try {
        listener(...args);
      } catch (error) {
        onError(error);
      }
    }
  }
}
