import { pino, type Logger } from 'pino';

export type { Logger };

/** The levels `LOG_LEVEL` accepts: pino's, from the most to the least severe, and `silent`. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof logLevels)[number];

/** The process-wide logger. `LOG_LEVEL` sets the level; tests pass `silent`. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined });
}
