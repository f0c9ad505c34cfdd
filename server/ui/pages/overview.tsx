/**
 * Overview of one collection root: counts by type and status (live from `<root>.stats`), the
 * last hour from the server's analytics (throughput, run time, failure rate), the types that
 * need attention, and the backlog over the time this page has been open.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { runTimeQuantile } from '../../../shared/analytics.ts';
import { jobStatuses, type JobStatus } from '../../../shared/constants.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { TimeChart } from '../components/time-chart.tsx';
import type { DdpConnection, Doc } from '../ddp/ddp-connection.ts';
import { formatCount } from '../format.ts';
import { useDocuments, useSubscription } from '../hooks.ts';
import { AnalyticsCharts, formatRunTime, useHourAnalytics } from './overview-analytics.tsx';

const byType = (a: Doc, b: Doc) => String(a._id).localeCompare(String(b._id));
const count = (doc: Doc | undefined, status: JobStatus | 'total') => (typeof doc?.[status] === 'number' ? (doc[status] as number) : 0);

export function Overview({ connection, root }: { connection: DdpConnection; root: string }) {
  const subscription = useSubscription(connection, `${root}.stats`, []);
  const types = useDocuments(connection, `${root}.stats`, byType);
  const totals = Object.fromEntries(jobStatuses.map((status) => [status, types.reduce((sum, doc) => sum + count(doc, status), 0)])) as Record<JobStatus, number>;
  const hour = useHourAnalytics(connection, root);
  const rising = (type: string) => hour.byType.get(type)?.failuresRising === true;
  const problems = types.filter((doc) => count(doc, 'failed') > 0 || rising(doc._id));

  if (subscription.ready && types.length === 0) return <EmptyState root={root} />;
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview of {root}</h1>
      {!subscription.ready && <p role="status">Loading counts…</p>}
      <ul class="totals" aria-label="Jobs by status">
        {jobStatuses.map((status) => (
          <li key={status}>
            <a href={`#/jobs?status=${status}`}>
              <StatusBadge status={status} />
              <strong data-testid={`total-${status}`}>{formatCount(totals[status])}</strong>
            </a>
          </li>
        ))}
      </ul>
      {problems.length > 0 && (
        <section aria-labelledby="problems-title" class="problems">
          <h2 id="problems-title">Needs attention</h2>
          <ul>
            {problems.map((doc) => (
              <li key={doc._id}>
                <span aria-hidden="true">⚠</span> <a href={`#/jobs?type=${encodeURIComponent(doc._id)}${count(doc, 'failed') > 0 ? '&status=failed' : ''}`}>{doc._id}</a>:{' '}
                {[
                  ...(count(doc, 'failed') > 0 ? [`${formatCount(count(doc, 'failed'))} failed`] : []),
                  ...(count(doc, 'ready') + count(doc, 'waiting') > 0 ? [`${formatCount(count(doc, 'ready') + count(doc, 'waiting'))} waiting to run`] : []),
                ].join(', ')}
                {rising(doc._id) && <strong>; failures rising: {formatCount(hour.byType.get(doc._id)?.recentFailures ?? 0)} runs failed in the last 15 minutes</strong>}
              </li>
            ))}
          </ul>
        </section>
      )}
      <AnalyticsCharts byMinute={hour.byMinute} />
      <BacklogChart totals={totals} ready={subscription.ready} />
      <div class="table-scroll">
        <table>
          <caption>Jobs by type and status</caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              {jobStatuses.map((status) => (
                <th scope="col" key={status}>
                  <StatusBadge status={status} />
                </th>
              ))}
              <th scope="col">Total</th>
              <th scope="col">Completed (1 h)</th>
              <th scope="col">Failed (1 h)</th>
              <th scope="col">p95 run (1 h)</th>
            </tr>
          </thead>
          <tbody>
            {types.map((doc) => (
              <tr key={doc._id} data-type={doc._id}>
                <th scope="row">
                  <a href={`#/jobs?type=${encodeURIComponent(doc._id)}`}>{doc._id}</a>
                </th>
                {jobStatuses.map((status) => (
                  <td key={status} class="number" data-status={status}>
                    {formatCount(count(doc, status))}
                  </td>
                ))}
                <td class="number">{formatCount(count(doc, 'total'))}</td>
                <td class="number">{formatCount(hour.byType.get(doc._id)?.completed ?? 0)}</td>
                <td class="number">{formatCount((hour.byType.get(doc._id)?.failed ?? 0) + (hour.byType.get(doc._id)?.retried ?? 0))}</td>
                <td class="number">{formatRunTime(runTimeQuantile(hour.byType.get(doc._id)?.runTimes ?? [], 0.95))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Jobs waiting to run and running, sampled every 2 s while the page is open. */
function BacklogChart({ totals, ready }: { totals: Record<JobStatus, number>; ready: boolean }) {
  const [data, setData] = useState<uPlot.AlignedData>([[], [], []]);
  const latest = useRef(totals);
  latest.current = totals;
  // Counts not yet received are not zeros: no sample until they are.
  const counted = useRef(ready);
  counted.current = ready;
  useEffect(() => {
    const samples: [number[], number[], number[]] = [[], [], []];
    const sample = () => {
      if (!counted.current) return;
      const [times, backlog, running] = samples;
      times.push(Date.now() / 1000);
      backlog.push(latest.current.waiting + latest.current.ready);
      running.push(latest.current.running);
      // Ten minutes at most.
      if (times.length > 300) for (const series of samples) series.shift();
      setData([[...times], [...backlog], [...running]]);
    };
    sample();
    const timer = setInterval(sample, 2000);
    return () => clearInterval(timer);
  }, []);
  return (
    <TimeChart
      caption="Backlog since this page was opened (every 2 s)"
      description="Chart of jobs waiting to run and running over time"
      yLabel="jobs"
      series={[
        { label: 'waiting + ready', stroke: '#2f6fb2' },
        { label: 'running', stroke: '#b26b2f', dash: [6, 4] },
      ]}
      data={data}
      minSpanS={60}
    />
  );
}

function EmptyState({ root }: { root: string }) {
  return (
    <section class="empty" aria-labelledby="empty-title">
      <h1 id="empty-title">No jobs in {root} yet</h1>
      <p>Submit a first job, and it appears here as it runs. With the worker library, from the repository:</p>
      <pre>
        <code>npx tsx examples/submit.ts greet hi{'\n'}npx tsx examples/worker.ts greet 1</code>
      </pre>
      <p>Or with the original meteor-job client:</p>
      <pre>
        <code>node examples/save-job.mjs greet hello</code>
      </pre>
    </section>
  );
}
