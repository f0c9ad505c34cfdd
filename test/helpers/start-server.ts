/**
 * Starts a real Cumulus server for a test: a free port on loopback, a fresh SQLite file in a
 * temp directory, a silent logger. `stop()` shuts it down and removes the directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/app/cumulus-server.ts';
import { loadConfig, type ConfigVariable } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import type { StoreOpener } from '../../server/store/open-store.ts';
import { trackResource } from './leak-guard.ts';

export interface TestServer {
  url: string;
  /** `ws://127.0.0.1:<port>/websocket` */
  wsUrl: string;
  port: number;
  server: RunningServer;
  /** The SQLite file, for tests that reopen it. */
  databaseFile: string;
  stop(): Promise<void>;
}

/**
 * @param options.openStores Opens the stores instead of `DATABASE_URL` (e.g. a MongoDB shared by
 *   several test servers, test/helpers/shared-mongo.ts).
 */
export async function startTestServer(
  env: Partial<Record<ConfigVariable, string>> = {},
  options: { openStores?: StoreOpener } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-test-'));
  const databaseFile = join(dir, 'cumulus.db');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${databaseFile}`,
    LOG_LEVEL: 'silent',
    CUMULUS_PUBLICATION_THROTTLE_MS: '20',
    ...env,
  });
  const server = await startServer(config, {
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    ...(options.openStores === undefined ? {} : { openStores: options.openStores }),
  });
  let stopped = false;
  trackResource(`the test server at ${server.url}`, () => stopped);
  return {
    url: server.url,
    wsUrl: `${server.url.replace(/^http/, 'ws')}/websocket`,
    port: server.port,
    server,
    databaseFile,
    async stop() {
      await server.stop();
      stopped = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
