/**
 * Calls that are safe to repeat, repeated across reconnects: after a DisconnectedError the
 * call waits for the connection to be back (logged in again) and goes out again. Only a closed
 * connection, or an answer, ends it.
 */
import { ConnectionClosedError, DisconnectedError } from './errors.ts';
import { connectionOf, type JobRoot } from './job-root.ts';

/** Runs `attempt` until it is answered, telling it whether this is a retry. */
export async function untilAnswered<T>(root: JobRoot, attempt: (retry: boolean) => Promise<T>): Promise<T> {
  for (let retry = false; ; retry = true) {
    try {
      return await attempt(retry);
    } catch (error) {
      if (!(error instanceof DisconnectedError) || error instanceof ConnectionClosedError) throw error;
      await connectionOf(root).whenReady();
    }
  }
}
