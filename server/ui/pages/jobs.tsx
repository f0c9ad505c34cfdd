/**
 * The jobs of one collection root, newest activity first, live from `<root>.jobs`, filtered by
 * type and status (the filter lives in the URL, so a filtered list can be linked to); older
 * jobs page by page behind them (`<root>_jobList`, keyset paging), not live.
 */
import { jobStatuses, type JobStatus } from '../../../shared/constants.ts';
import { LabelledSelect } from '../components/labelled-select.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { useEffect, useRef, useState } from 'preact/hooks';
import { DdpError, type DdpConnection, type Doc } from '../ddp/ddp-connection.ts';
import { useDocuments, useSubscription, useTicker, type Route } from '../hooks.ts';

const listLimit = 100;

/** Newest activity first, ties by id: the publication's own order. */
const newestFirst = (a: Doc, b: Doc) =>
  (b.updated as Date).getTime() - (a.updated as Date).getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);

export function Jobs({ connection, root, route }: { connection: DdpConnection; root: string; route: Route }) {
  const type = route.query.get('type') ?? '';
  const status = (route.query.get('status') ?? '') as JobStatus | '';
  const filter = { ...(type === '' ? {} : { type }), ...(status === '' ? {} : { status }), limit: listLimit };
  const subscription = useSubscription(connection, `${root}.jobs`, [filter]);
  useSubscription(connection, `${root}.stats`, []);
  const types = useDocuments(connection, `${root}.stats`).map((doc) => doc._id).sort();
  const jobs = useDocuments(connection, `${root}.jobs`, newestFirst).filter(
    (job) => (type === '' || job.type === type) && (status === '' || job.status === status),
  );
  const now = useTicker(10_000);
  const older = useOlderPages(connection, root, type, status);
  const setFilter = (key: string, value: string) => {
    const query = new URLSearchParams(route.query);
    if (value === '') query.delete(key);
    else query.set(key, value);
    const text = query.toString();
    location.hash = text === '' ? '#/jobs' : `#/jobs?${text}`;
  };

  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs of {root}</h1>
      <form class="filters" role="search" aria-label="Filter jobs" onSubmit={(event) => event.preventDefault()}>
        <LabelledSelect label="Type" any="all types" value={type} options={types} onChange={(value) => setFilter('type', value)} />
        <LabelledSelect label="Status" any="all statuses" value={status} options={jobStatuses} onChange={(value) => setFilter('status', value)} />
      </form>
      <BulkAction connection={connection} root={root} type={type} status={status} />
      {subscription.error !== undefined && <p role="alert">Cannot list jobs: {subscription.error.reason}</p>}
      {!subscription.ready && subscription.error === undefined && <p role="status">Loading jobs…</p>}
      {subscription.ready && jobs.length === 0 && <p>No job matches this filter.</p>}
      {jobs.length > 0 && <JobTable caption={jobs.length === listLimit ? `The ${listLimit} jobs with the newest activity, live` : `${jobs.length} jobs, newest activity first, live`} jobs={jobs} now={now} />}
      {older.jobs.length > 0 && (
        <JobTable caption="Older jobs, as they were when loaded (not live)" jobs={older.jobs.filter((job) => !jobs.some((live) => live._id === job._id))} now={now} />
      )}
      {older.error !== undefined && <p role="alert">Cannot load older jobs: {older.error}</p>}
      {jobs.length === listLimit && !older.exhausted && (
        <button type="button" onClick={() => void older.more(older.jobs.at(-1) ?? jobs.at(-1))} disabled={older.loading}>
          Show {olderPage} older jobs
        </button>
      )}
      {older.exhausted && <p>No older jobs.</p>}
    </section>
  );
}

const olderPage = 50;

/** Pages of older jobs after a given one, reset when the filter changes. */
function useOlderPages(connection: DdpConnection, root: string, type: string, status: string) {
  const [jobs, setJobs] = useState<Doc[]>([]);
  const [exhausted, setExhausted] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | undefined>();
  // The filter a page was asked for: a page arriving after the filter changed is dropped.
  const generation = useRef(0);
  useEffect(() => {
    generation.current += 1;
    setJobs([]);
    setExhausted(false);
    setError(undefined);
  }, [root, type, status]);
  const more = async (last: Doc | undefined) => {
    if (last === undefined) return;
    const asked = generation.current;
    setLoading(true);
    try {
      const filter = { ...(type === '' ? {} : { types: [type] }), ...(status === '' ? {} : { statuses: [status] }) };
      const page = await connection.call<Doc[]>(`${root}_jobList`, filter, { limit: olderPage, after: { updated: last.updated, id: last._id } });
      if (asked !== generation.current) return;
      setJobs((shown) => [...shown, ...page.filter((job) => !shown.some((other) => other._id === job._id))]);
      if (page.length < olderPage) setExhausted(true);
      setError(undefined);
    } catch (failure) {
      if (asked === generation.current) setError(failure instanceof DdpError ? (failure.reason ?? String(failure.error)) : 'the server did not answer');
    } finally {
      setLoading(false);
    }
  };
  return { jobs, exhausted, loading, error, more };
}

function JobTable({ caption, jobs, now }: { caption: string; jobs: Doc[]; now: number }) {
  return (
    <div class="table-scroll">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Priority</th>
            <th scope="col">Created</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job._id} data-job={job._id}>
              <td>
                <a href={`#/job/${encodeURIComponent(job._id)}`}>
                  <code>{job._id}</code>
                </a>
                {typeof job.name === 'string' && <span class="name"> {job.name}</span>}
              </td>
              <td>{String(job.type)}</td>
              <td>
                <StatusBadge status={job.status as JobStatus} />
              </td>
              <td>
                <Progress job={job} />
              </td>
              <td class="number">{String(job.priority)}</td>
              <td>
                <TimeAgo date={job.created} now={now} />
              </td>
              <td>
                <TimeAgo date={job.updated} now={now} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const bulkActions = ['pause', 'resume', 'ready', 'cancel', 'restart', 'remove'] as const;
/** Actions that cannot simply be taken back (only pause and resume undo each other): asked for with the number of jobs first. */
const destructive = new Set<string>(['ready', 'cancel', 'restart', 'remove']);

/**
 * An action on every job of the current filter (`jobBulk`): the server counts first, a
 * destructive action is confirmed with that number, then it applies in batches.
 */
function BulkAction({ connection, root, type, status }: { connection: DdpConnection; root: string; type: string; status: JobStatus | '' }) {
  const [action, setAction] = useState<(typeof bulkActions)[number]>('pause');
  const [outcome, setOutcome] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const scope = `${type === '' ? 'every type' : `type ${type}`}, ${status === '' ? 'every status' : `status ${status}`}`;
  const apply = async () => {
    const filter = { ...(type === '' ? {} : { types: [type] }), ...(status === '' ? {} : { statuses: [status] }) };
    setBusy(true);
    try {
      const { matched } = await connection.call<{ matched: number }>(`${root}_jobBulk`, action, filter, { dryRun: true });
      if (matched === 0) {
        setOutcome(`${action}: no job of ${scope} can be changed so.`);
        return;
      }
      if (destructive.has(action) && !confirm(`${action} ${matched} job${matched === 1 ? '' : 's'} (${scope})? This cannot be undone.`)) {
        setOutcome(undefined);
        return;
      }
      setOutcome(`${action}: working on ${matched} jobs…`);
      const { changed } = await connection.call<{ changed: number }>(`${root}_jobBulk`, action, filter);
      setOutcome(`${action}: ${changed} job${changed === 1 ? '' : 's'} changed.`);
    } catch (error) {
      setOutcome(error instanceof DdpError ? `${action} refused: ${error.reason ?? error.error}` : `${action} failed.`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="bulk"
      aria-label="Action on every job of this filter"
      onSubmit={(event) => {
        event.preventDefault();
        void apply();
      }}
    >
      <LabelledSelect label="Every job of this filter:" value={action} options={bulkActions} onChange={(value) => setAction(value as (typeof bulkActions)[number])} />
      <button type="submit" disabled={busy}>
        Apply to {scope}
      </button>
      <p role="status" aria-live="polite">
        {outcome}
      </p>
    </form>
  );
}

export function Progress({ job }: { job: Doc }) {
  const progress = job.progress as { completed: number; total: number; percent: number } | undefined;
  const percent = Math.round(progress?.percent ?? 0);
  return (
    <progress max={100} value={percent} aria-label={`${percent}% done`} title={`${progress?.completed ?? 0} of ${progress?.total ?? 1}`}>
      {percent}%
    </progress>
  );
}
