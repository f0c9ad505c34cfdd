import { absoluteTime, isNever, relativeTime } from '../format.ts';

/** A time shown relative ("3 min ago"), the absolute time in its title and for machines. */
export function TimeAgo({ date, now }: { date: unknown; now: number }) {
  if (!(date instanceof Date)) return <span>—</span>;
  if (isNever(date)) return <span>never</span>;
  return (
    <time dateTime={date.toISOString()} title={absoluteTime(date)}>
      {relativeTime(date, now)}
    </time>
  );
}
