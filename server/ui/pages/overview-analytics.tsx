/**
 * The Overview's charts of the last hour from the server's analytics (`<root>.analytics`, per
 * type and minute): throughput, run time (median and p95), failure rate. Also what the type
 * table and "Needs attention" read: each type's last hour, and whether its failures are rising.
 */
import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import { addCounts, emptyCounts, runTimeQuantile, type AnalyticsCounts } from '../../../shared/analytics.ts';
import { TimeChart } from '../components/time-chart.tsx';
import type { DdpConnection, Doc } from '../ddp/ddp-connection.ts';
import { formatCount } from '../format.ts';
import { useDocuments, useSubscription } from '../hooks.ts';

const minutes = 60;

export interface TypeHour extends AnalyticsCounts {
  /** Runs that failed (for good or to be retried) in the last 15 minutes. */
  recentFailures: number;
  /** At least 3 such failures, above the pace of the 45 minutes before. */
  failuresRising: boolean;
}

/** The analytics of the last hour: per minute for every type, and per type. */
export function useHourAnalytics(connection: DdpConnection, root: string) {
  const subscription = useSubscription(connection, `${root}.analytics`, [{ resolution: 'minute', periods: minutes }]);
  const docs = useDocuments(connection, `${root}.analytics`);
  return useMemo(() => {
    const byMinute = new Map<number, AnalyticsCounts>();
    const byType = new Map<string, TypeHour>();
    const recent = new Map<string, number>();
    const earlier = new Map<string, number>();
    const quarter = Date.now() - 15 * 60_000;
    for (const doc of docs) {
      const counts = countsOf(doc);
      const at = (doc.at as Date).getTime();
      const type = String(doc.type);
      addCounts(getOr(byMinute, at, emptyCounts), counts);
      addCounts(getOr(byType, type, () => ({ ...emptyCounts(), recentFailures: 0, failuresRising: false })), counts);
      const failures = counts.failed + counts.retried;
      const side = at >= quarter ? recent : earlier;
      side.set(type, (side.get(type) ?? 0) + failures);
    }
    for (const [type, hour] of byType) {
      hour.recentFailures = recent.get(type) ?? 0;
      hour.failuresRising = hour.recentFailures >= 3 && hour.recentFailures > ((earlier.get(type) ?? 0) / 45) * 15;
    }
    return { ready: subscription.ready, byMinute, byType };
  }, [docs, subscription.ready]);
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function countsOf(doc: Doc): AnalyticsCounts {
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  return {
    completed: number(doc.completed),
    failed: number(doc.failed),
    retried: number(doc.retried),
    runTimes: Array.isArray(doc.runTimes) ? doc.runTimes.map(number) : [],
    runTimeTotalMs: number(doc.runTimeTotalMs),
  };
}

/** A run time for people: 250 ms, 2.5 s, 5 min. */
export function formatRunTime(ms: number | undefined): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `≤ ${ms} ms`;
  if (ms < 60_000) return `≤ ${ms / 1000} s`;
  return `≤ ${ms / 60_000} min`;
}

export function AnalyticsCharts({ byMinute }: { byMinute: Map<number, AnalyticsCounts> }) {
  const data = useMemo(() => {
    // Every minute of the hour, empty ones as zeros: a quiet minute is a real zero.
    const now = Date.now();
    const last = now - (now % 60_000);
    const times: number[] = [];
    const completed: number[] = [];
    const failed: number[] = [];
    const p50: (number | null)[] = [];
    const p95: (number | null)[] = [];
    const failureRate: (number | null)[] = [];
    for (let at = last - (minutes - 1) * 60_000; at <= last; at += 60_000) {
      const counts = byMinute.get(at) ?? emptyCounts();
      times.push(at / 1000);
      completed.push(counts.completed);
      failed.push(counts.failed + counts.retried);
      p50.push(runTimeQuantile(counts.runTimes, 0.5) ?? null);
      p95.push(runTimeQuantile(counts.runTimes, 0.95) ?? null);
      const runs = counts.completed + counts.failed + counts.retried;
      failureRate.push(runs === 0 ? null : (100 * (counts.failed + counts.retried)) / runs);
    }
    const total = [...byMinute.values()].reduce((sum, counts) => (addCounts(sum, counts), sum), emptyCounts());
    return {
      throughput: [times, completed, failed] as uPlot.AlignedData,
      runTime: [times, p50, p95] as uPlot.AlignedData,
      failures: [times, failureRate] as uPlot.AlignedData,
      total,
    };
  }, [byMinute]);
  const { total } = data;
  const runs = total.completed + total.failed + total.retried;
  return (
    <section aria-labelledby="analytics-title">
      <h2 id="analytics-title">The last hour</h2>
      <p class="summary">
        Completed <strong data-testid="hour-completed">{formatCount(total.completed)}</strong> · failed{' '}
        <strong data-testid="hour-failed">{formatCount(total.failed)}</strong> · retried <strong>{formatCount(total.retried)}</strong> · run time median{' '}
        <strong>{formatRunTime(runTimeQuantile(total.runTimes, 0.5))}</strong>, p95 <strong>{formatRunTime(runTimeQuantile(total.runTimes, 0.95))}</strong> ·
        failure rate <strong>{runs === 0 ? '–' : `${((100 * (total.failed + total.retried)) / runs).toFixed(1)} %`}</strong>
      </p>
      <div class="charts">
        <TimeChart
          caption="Throughput per minute"
          description="Chart of runs completed and failed per minute over the last hour"
          yLabel="runs / min"
          series={[
            { label: 'completed', stroke: '#2e7d32' },
            { label: 'failed or retried', stroke: '#c62828', dash: [6, 4] },
          ]}
          data={data.throughput}
          minSpanS={3600}
        />
        <TimeChart
          caption="Run time per minute (bucket upper bounds)"
          description="Chart of the median and 95th percentile run time per minute over the last hour"
          yLabel="ms"
          series={[
            { label: 'median', stroke: '#2f6fb2', points: true },
            { label: 'p95', stroke: '#6a1b9a', dash: [6, 4], points: true },
          ]}
          data={data.runTime}
          minSpanS={3600}
        />
        <TimeChart
          caption="Failure rate per minute"
          description="Chart of the share of runs that failed per minute over the last hour"
          yLabel="% of runs"
          series={[{ label: 'failed or retried', stroke: '#c62828', points: true }]}
          data={data.failures}
          minSpanS={3600}
        />
      </div>
    </section>
  );
}
