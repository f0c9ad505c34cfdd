/** How values read on the page. */
import type { JobStatus } from '../../shared/constants.ts';

/** "just now", "42 s ago", "3 min ago", "in 5 min", "2 h ago", "4 d ago". */
export function relativeTime(date: Date, now: number): string {
  if (isNever(date)) return 'never';
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 5) return 'just now';
  const [value, unit] =
    abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86_400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86_400), 'd'];
  return seconds < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

/** Dates at or past this mean "never" (jobCollection's `foreverDate` and the like). */
const neverAfter = Date.UTC(200_000, 0, 1);

export function isNever(date: Date): boolean {
  return date.getTime() >= neverAfter;
}

/** An absolute time in the reader's locale, for titles and the job page. */
export function absoluteTime(date: Date): string {
  return absoluteFormat.format(date);
}

// One formatter for the page: `toLocaleString` builds a new one at every call, which a table of
// a hundred times repainted under load pays for dearly.
const absoluteFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Every status with a symbol, so that it never depends on colour alone. */
export const statusSymbols: Record<JobStatus, string> = {
  waiting: '◔',
  paused: '‖',
  ready: '○',
  running: '▶',
  completed: '✓',
  failed: '✗',
  cancelled: '⊘',
};

export function formatCount(n: number): string {
  return n.toLocaleString();
}
