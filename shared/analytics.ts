/**
 * Job analytics as the server keeps them (docs/PROTOCOL.md §7.18): per collection, job type and
 * minute (and per hour, kept longer), how many runs completed, failed for good or failed to be
 * retried, and their run times in fixed histogram buckets — mergeable by adding, so servers and
 * minutes combine without losing the percentiles' meaning.
 */
/** Upper bounds of the run-time buckets, in ms; a last bucket holds the longer runs. */
export const runTimeBucketsMs = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 900_000] as const;

/** The bucket index of a run time. */
export function runTimeBucket(ms: number): number {
  const index = runTimeBucketsMs.findIndex((bound) => ms <= bound);
  return index === -1 ? runTimeBucketsMs.length : index;
}

/**
 * A quantile (0..1) of a histogram, as the upper bound of the bucket where it falls (the
 * longest bucket answers its lower bound, the longest bound known); undefined without runs.
 */
export function runTimeQuantile(histogram: readonly number[], quantile: number): number | undefined {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (const [index, count] of histogram.entries()) {
    seen += count;
    if (seen >= quantile * total) return runTimeBucketsMs[index] ?? runTimeBucketsMs.at(-1);
  }
  return runTimeBucketsMs.at(-1);
}

export type AnalyticsResolution = 'minute' | 'hour';

/** How long each resolution is kept, in ms. */
export const analyticsRetentionMs: Record<AnalyticsResolution, number> = {
  minute: 24 * 3_600_000,
  hour: 30 * 24 * 3_600_000,
};

export const resolutionMs: Record<AnalyticsResolution, number> = { minute: 60_000, hour: 3_600_000 };

/** What one type did in one period: the fields of a `<root>.analytics` document. */
export interface AnalyticsCounts {
  completed: number;
  failed: number;
  retried: number;
  /** Runs timed per bucket of `runTimeBucketsMs` (a run whose start this server did not see is counted, not timed). */
  runTimes: number[];
  /** The sum of the timed runs, in ms, for a mean. */
  runTimeTotalMs: number;
}

export interface AnalyticsPeriod extends AnalyticsCounts {
  type: string;
  resolution: AnalyticsResolution;
  /** The period's start. */
  at: Date;
}

export function emptyCounts(): AnalyticsCounts {
  return { completed: 0, failed: 0, retried: 0, runTimes: new Array<number>(runTimeBucketsMs.length + 1).fill(0), runTimeTotalMs: 0 };
}

/** Adds `more` into `into`. */
export function addCounts(into: AnalyticsCounts, more: AnalyticsCounts): void {
  into.completed += more.completed;
  into.failed += more.failed;
  into.retried += more.retried;
  into.runTimeTotalMs += more.runTimeTotalMs;
  for (const [index, count] of more.runTimes.entries()) into.runTimes[index] = (into.runTimes[index] ?? 0) + count;
}
