/**
 * A real Cumulus test server with a worker-library connection to it, and the cleanup of both.
 */
import type { ConfigVariable } from '../../../server/config.ts';
import { connect, type ConnectOptions, type CumulusConnection } from '../../../worker/index.ts';
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
