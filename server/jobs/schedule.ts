/** later.js schedules (repeat waits given as a schedule), evaluated in UTC as later.js does by default. */
import later from '@breejs/later';
import type { LaterSchedule } from '../../shared/job-doc.ts';

function asDates(result: Date | Date[] | 0): Date[] {
  if (result === 0) return [];
  return Array.isArray(result) ? result : [result];
}

/** Up to `count` occurrences at or after `from`. */
export function nextOccurrences(schedule: LaterSchedule, count: number, from: Date): Date[] {
  return asDates(later.schedule(schedule).next(count, from)).slice(0, count);
}

/** The last occurrence at or before `before`, if any. */
export function previousOccurrence(schedule: LaterSchedule, before: Date): Date | undefined {
  return asDates(later.schedule(schedule).prev(1, before))[0];
}

/**
 * The first occurrence strictly after the last occurrence at or before `after`: the first
 * run of a scheduled job saved to start at `after` (docs/PROTOCOL.md §2.3 jobSave normalization).
 */
export function firstRunAfter(schedule: LaterSchedule, after: Date): Date | undefined {
  const previous = previousOccurrence(schedule, after);
  if (previous === undefined) return nextOccurrences(schedule, 1, after)[0];
  return nextOccurrences(schedule, 2, previous).find((d) => d.getTime() > previous.getTime());
}

/**
 * How long to wait before the next repeat of a scheduled job that finished at `now`: the next
 * occurrence, skipping one that is 500 ms away or less so a job that finishes instantly is
 * not rescheduled at once (docs/PROTOCOL.md §3.5).
 */
export function waitUntilNextRun(schedule: LaterSchedule, now: Date): number | undefined {
  const [first, second] = nextOccurrences(schedule, 2, now);
  if (first === undefined) return undefined;
  const firstWait = first.getTime() - now.getTime();
  if (firstWait > 500) return firstWait;
  return second === undefined ? undefined : second.getTime() - now.getTime();
}
