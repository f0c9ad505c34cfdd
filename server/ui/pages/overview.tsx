/**
 * Overview of one collection root: counts by type and status (live from `<root>.stats`), the
 * types that need attention, and the backlog over the time this page has been open.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { jobStatuses, type JobStatus } from '../../../shared/constants.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import type { DdpConnection, Doc } from '../ddp/ddp-connection.ts';
import { formatCount } from '../format.ts';
import { useDocuments, useSubscription } from '../hooks.ts';

const byType = (a: Doc, b: Doc) => String(a._id).localeCompare(String(b._id));
const count = (doc: Doc | undefined, status: JobStatus | 'total') => (typeof doc?.[status] === 'number' ? (doc[status] as number) : 0);

export function Overview({ connection, root }: { connection: DdpConnection; root: string }) {
  const subscription = useSubscription(connection, `${root}.stats`, []);
  const types = useDocuments(connection, `${root}.stats`, byType);
  const totals = Object.fromEntries(jobStatuses.map((status) => [status, types.reduce((sum, doc) => sum + count(doc, status), 0)])) as Record<JobStatus, number>;
  const problems = types.filter((doc) => count(doc, 'failed') > 0);

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
                <span aria-hidden="true">⚠</span> <a href={`#/jobs?type=${encodeURIComponent(doc._id)}&status=failed`}>{doc._id}</a>: {formatCount(count(doc, 'failed'))} failed
                {count(doc, 'ready') + count(doc, 'waiting') > 0 && `, ${formatCount(count(doc, 'ready') + count(doc, 'waiting'))} waiting to run`}
              </li>
            ))}
          </ul>
        </section>
      )}
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
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot>();
  const samples = useRef<[number[], number[], number[]]>([[], [], []]);
  const latest = useRef(totals);
  latest.current = totals;
  // Counts not yet received are not zeros: no sample until they are.
  const counted = useRef(ready);
  counted.current = ready;
  useEffect(() => {
    const target = element.current;
    if (target === null) return undefined;
    const sample = () => {
      if (!counted.current) return;
      const [times, backlog, running] = samples.current;
      times.push(Date.now() / 1000);
      backlog.push(latest.current.waiting + latest.current.ready);
      running.push(latest.current.running);
      // Ten minutes at most.
      if (times.length > 300) for (const series of samples.current) series.shift();
      chart.current?.setData(samples.current);
    };
    chart.current = new uPlot(
      {
        width: Math.max(280, target.clientWidth),
        height: 200,
        // At least the last minute, so that the first samples do not stretch across years.
        scales: { x: { time: true, range: (_chart, min, max) => [Math.min(min, max - 60), max] } },
        series: [{}, { label: 'waiting + ready', stroke: '#2f6fb2', width: 2 }, { label: 'running', stroke: '#b26b2f', width: 2 }],
        axes: [{}, { label: 'jobs' }],
      },
      samples.current,
      target,
    );
    sample();
    const timer = setInterval(sample, 2000);
    const resize = new ResizeObserver(() => chart.current?.setSize({ width: Math.max(280, target.clientWidth), height: 200 }));
    resize.observe(target);
    return () => {
      clearInterval(timer);
      resize.disconnect();
      chart.current?.destroy();
    };
  }, []);
  return (
    <figure class="chart">
      <figcaption>Backlog since this page was opened (every 2 s)</figcaption>
      <div ref={element} role="img" aria-label="Chart of jobs waiting to run and running over time" />
    </figure>
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
