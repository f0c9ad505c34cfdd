/** `npm start`: reads the environment, starts the server, and shuts it down cleanly on SIGINT/SIGTERM. */
import { startServer } from './app/cumulus-server.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { StoreOpenError } from './store/store-open-error.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) exitWith(error.message);
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let server;
  try {
    server = await startServer(config, { logger });
  } catch (error) {
    if (error instanceof StoreOpenError) exitWith(error.message);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') exitWith(`Port ${config.port} on ${config.host} is already in use. Set PORT to another port.`);
    throw error;
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Announced only now: whoever waits for this line may signal the server at once.
  const wsUrl = server.url.replace(/^http/, 'ws');
  logger.info({ url: server.url, ddp: `${wsUrl}/websocket`, store: config.databaseUrl, collections: config.roots, auth: config.tokens.size > 0 },
    `Cumulus listening on ${server.url} (DDP at ${wsUrl}/websocket)`);
}

function exitWith(message: string): never {
  process.stderr.write(`cumulus: ${message}\n`);
  process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`cumulus: failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
