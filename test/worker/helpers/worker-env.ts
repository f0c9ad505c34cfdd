/**
 * A real Cumulus test server with a worker-library connection to it, and the cleanup of both.
 */
import { after, afterEach, before } from 'node:test';
import type { ConfigVariable } from '../../../server/config.ts';
import { connect, type ConnectOptions, type CumulusConnection, type JobQueue, type JobQueueOptions } from '../../../worker/index.ts';
import { trackResource } from '../../helpers/leak-guard.ts';
import { startTestServer, type TestServer } from '../../helpers/start-server.ts';

export interface WorkerEnv {
  server: TestServer;
  connection: CumulusConnection;
  /** Closes the connection, then stops the server. */
  stop(): Promise<void>;
}

/** Reconnects fast (tests restart servers) and never pings (tests are short). */
export const testConnectOptions: ConnectOptions = { reconnectDelayMs: 20, maxReconnectDelayMs: 200, heartbeatMs: 0 };

export async function startWorkerEnv(env: Partial<Record<ConfigVariable, string>> = {}, options: ConnectOptions = {}): Promise<WorkerEnv> {
  const server = await startTestServer(env);
  const connection = await connect(server.wsUrl, { ...testConnectOptions, ...options });
  return {
    server,
    connection,
    async stop() {
      await connection.close();
      await server.stop();
    },
  };
}

/** Collects errors a queue or connection reports, so a test can assert there were none. */
export function errorSink(): { errors: Error[]; report: (error: Error) => void } {
  const errors: Error[] = [];
  return { errors, report: (error) => errors.push(error) };
}

/** What a suite of queue tests shares: one server and connection, its queues, and their errors. */
export interface QueueSuite {
  /** The server and connection, once the suite's `before` hook has run. */
  readonly env: WorkerEnv;
  /** Errors the queues reported through `options()`; emptied after each test. */
  readonly errors: Error[];
  /** Registers a queue to be shut down (hard) after the test, and watched by the leak guard. */
  track<Q extends JobQueue>(queue: Q): Q;
  /** Queue options whose `errorCallback` collects into `errors`. */
  options<P extends number = 1>(more?: JobQueueOptions<P>): JobQueueOptions<P>;
}

/**
 * Registers the hooks of a suite of queue tests (call it inside `describe`): a server and a
 * connection for the suite, every tracked queue shut down after each test, then `afterEachTest`
 * (to assert on the errors, say), and the errors cleared.
 */
export function queueSuite(afterEachTest: (errors: readonly Error[]) => void = () => undefined): QueueSuite {
  let env: WorkerEnv | undefined;
  const queues: JobQueue[] = [];
  const sink = errorSink();
  before(async () => {
    env = await startWorkerEnv();
  });
  afterEach(async () => {
    for (const queue of queues.splice(0)) await queue.shutdown({ level: 'hard' });
    try {
      afterEachTest(sink.errors);
    } finally {
      sink.errors.splice(0);
    }
  });
  after(() => env?.stop());
  return {
    get env() {
      if (env === undefined) throw new Error('the suite has not started yet');
      return env;
    },
    errors: sink.errors,
    track(queue) {
      const tracked = queue as unknown as JobQueue;
      queues.push(tracked);
      // Shut down by the afterEach hook, which takes it off the list.
      trackResource(`a JobQueue of ${queue.types.join(', ')}`, () => !queues.includes(tracked));
      return queue;
    },
    options: (more = {}) => ({ errorCallback: sink.report, ...more }),
  };
}
