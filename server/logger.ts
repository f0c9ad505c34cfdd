import { pino, type Logger } from 'pino';

export type { Logger };

/** The levels `LOG_LEVEL` accepts: pino's, from the most to the least severe, and `silent`. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof logLevels)[number];

/**
 * Lines go to `process.stdout`, not to pino's own writer: when whoever reads the output goes away
 * (a closed pipe), that writer retries the failing write forever in its flush at exit, so the
 * server would never stop. Node's stdout reports it as an error instead, dropped here: with
 * nobody reading, there is nobody to tell.
 */
let stdoutWatched = false;

function stdout(): NodeJS.WritableStream {
  if (!stdoutWatched) {
    stdoutWatched = true;
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  return process.stdout;
}

/** The process-wide logger. `LOG_LEVEL` sets the level; tests pass `silent`. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined }, stdout());
}
