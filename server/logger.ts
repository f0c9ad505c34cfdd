import { pino, type Logger } from 'pino';

export type { Logger };

/** The process-wide logger. `LOG_LEVEL` sets the level; tests pass `silent`. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined });
}
