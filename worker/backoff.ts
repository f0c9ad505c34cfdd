/**
 * Reconnect delays: exponential from `initialMs` up to `maxMs`, each randomised to 50–100 %
 * so that many workers cut off by one server restart do not all return in the same instant.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** The delay before reconnect attempt `attempt` (0 for the first attempt after a drop). */
export function reconnectDelay(attempt: number, { initialMs, maxMs }: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() / 2));
}
