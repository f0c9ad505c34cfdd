/**
 * The job a handler of `serve()` is running, known to everything it calls: a `submit()` made
 * inside a handler (directly, through the handler's context, or through the Atmosphere facade)
 * submits on behalf of that job — recording it as parent — and lends the job's slot while it
 * waits, so a worker awaiting its own children never deadlocks its queue.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CumulusConnection } from './connection.ts';

export interface HandlerScope {
  root: string;
  connection: CumulusConnection;
  /** The running job, as `chainSubmit`'s `parent` names it. */
  parent: { id: string; runId: string };
  /** Lends the job's slot in its queue while `waiting` is pending. */
  lendWhile<T>(waiting: Promise<T>): Promise<T>;
  /**
   * Whether the handler is still running: a timer or promise it left behind keeps its scope, but
   * once the job has ended, work submitted from there has no parent and lends nothing.
   */
  readonly running: boolean;
}

export const handlerScope = new AsyncLocalStorage<HandlerScope>();
