/**
 * The jobs of one collection root. With no search, time range or other order, the list is live:
 * the newest activity first from `<root>.jobs`, filtered by type and status. A search, a time
 * range or another order lists through `<root>_jobList` instead (the search index, keyset
 * pages), its first page read again every few seconds. Older jobs come page by page behind
 * either. The filter lives in the URL, so a filtered list can be linked to.
 */
import { jobStatuses } from '../../../shared/constants.ts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { JobTable } from '../components/job-table.tsx';
import { LabelledSelect } from '../components/labelled-select.tsx';
import { DdpError, type DdpConnection, type Doc } from '../ddp/ddp-connection.ts';
import { repaintIntervalMs, useDocuments, useSubscription, useTicker, type Route } from '../hooks.ts';
import { BulkAction, SelectionAction, type FilterScope } from './job-actions.tsx';

const listLimit = 100;
const olderPage = 50;
/** How often a search's first page is read again. */
const refreshMs = 5000;

const orders = [
  { value: 'updated-desc', label: 'newest activity' },
  { value: 'created-desc', label: 'newest created' },
  { value: 'priority', label: 'priority' },
];

const periods: Record<string, { label: string; ms: number }> = {
  '15m': { label: 'last 15 minutes', ms: 15 * 60_000 },
  '1h': { label: 'last hour', ms: 3_600_000 },
  '24h': { label: 'last 24 hours', ms: 86_400_000 },
  '7d': { label: 'last 7 days', ms: 7 * 86_400_000 },
};
const periodOptions = Object.entries(periods).map(([value, { label }]) => ({ value, label }));

/** Newest activity first, ties by id: the publication's own order. */
const newestFirst = (a: Doc, b: Doc) =>
  (b.updated as Date).getTime() - (a.updated as Date).getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);

interface JobsFilter {
  type: string;
  status: string;
  text: string;
  created: string;
  updated: string;
  order: string;
}

function filterOf(query: URLSearchParams): JobsFilter {
  const read = (key: string) => query.get(key) ?? '';
  const order = read('order');
  return {
    type: read('type'),
    status: read('status'),
    text: read('q'),
    created: read('created') in periods ? read('created') : '',
    updated: read('updated') in periods ? read('updated') : '',
    order: orders.some((option) => option.value === order) ? order : 'updated-desc',
  };
}

/** The jobList/jobBulk selection of a filter, time ranges counted back from now. */
function scopeOf(filter: JobsFilter): FilterScope {
  const since = (period: string) => ({ from: new Date(Date.now() - (periods[period]?.ms ?? 0)) });
  const selection = {
    ...(filter.type === '' ? {} : { types: [filter.type] }),
    ...(filter.status === '' ? {} : { statuses: [filter.status] }),
    ...(filter.text.trim() === '' ? {} : { text: filter.text }),
    ...(filter.created === '' ? {} : { created: since(filter.created) }),
    ...(filter.updated === '' ? {} : { updated: since(filter.updated) }),
  };
  const words = [
    filter.type === '' ? 'every type' : `type ${filter.type}`,
    filter.status === '' ? 'every status' : `status ${filter.status}`,
    ...(filter.text.trim() === '' ? [] : [`matching “${filter.text.trim()}”`]),
    ...(filter.created === '' ? [] : [`created in the ${periods[filter.created]?.label}`]),
    ...(filter.updated === '' ? [] : [`updated in the ${periods[filter.updated]?.label}`]),
  ];
  return { selection, description: words.join(', ') };
}

export function Jobs({ connection, root, route }: { connection: DdpConnection; root: string; route: Route }) {
  const filter = filterOf(route.query);
  const live = filter.text.trim() === '' && filter.created === '' && filter.updated === '' && filter.order === 'updated-desc';
  const filterKey = JSON.stringify(filter);
  useSubscription(connection, `${root}.stats`, []);
  const types = useDocuments(connection, `${root}.stats`).map((doc) => doc._id).sort();
  const now = useTicker(10_000);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => setSelected(new Set()), [root, filterKey]);
  const selection = {
    has: (id: string) => selected.has(id),
    set: (ids: readonly string[], on: boolean) =>
      setSelected((current) => {
        const next = new Set(current);
        for (const id of ids) {
          if (on) next.add(id);
          else next.delete(id);
        }
        return next;
      }),
  };
  const setParam = (key: string, value: string) => {
    // From the URL as it is now, not as it was rendered: the search field calls this a moment later.
    const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
    if (value === '' || (key === 'order' && value === 'updated-desc')) query.delete(key);
    else query.set(key, value);
    const text = query.toString();
    location.hash = text === '' ? '#/jobs' : `#/jobs?${text}`;
  };

  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs of {root}</h1>
      <form class="filters" role="search" aria-label="Filter jobs" onSubmit={(event) => event.preventDefault()}>
        <SearchField value={filter.text} onChange={(value) => setParam('q', value)} />
        <LabelledSelect label="Type" any="all types" value={filter.type} options={types} onChange={(value) => setParam('type', value)} />
        <LabelledSelect label="Status" any="all statuses" value={filter.status} options={jobStatuses} onChange={(value) => setParam('status', value)} />
        <LabelledSelect label="Created" any="any time" value={filter.created} options={periodOptions} onChange={(value) => setParam('created', value)} />
        <LabelledSelect label="Updated" any="any time" value={filter.updated} options={periodOptions} onChange={(value) => setParam('updated', value)} />
        <LabelledSelect label="Sort by" value={filter.order} options={orders} onChange={(value) => setParam('order', value)} />
      </form>
      <BulkAction connection={connection} root={root} scope={() => scopeOf(filter)} />
      <SelectionAction connection={connection} root={root} ids={[...selected]} onDone={() => setSelected(new Set())} />
      {live ? (
        <LiveJobs key={filterKey} connection={connection} root={root} filter={filter} now={now} selection={selection} />
      ) : (
        <ListedJobs key={filterKey} connection={connection} root={root} filter={filter} now={now} selection={selection} />
      )}
    </section>
  );
}

/** The search field: the list follows as one types, a moment after the last key. */
function SearchField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    if (text === value) return;
    const timer = setTimeout(() => onChange(text), 300);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <label>
      Search{' '}
      <input
        type="search"
        value={text}
        placeholder="id, name, words in data, result or failures"
        size={36}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter') onChange(text);
        }}
      />
    </label>
  );
}

type ListProps = { connection: DdpConnection; root: string; filter: JobsFilter; now: number; selection: Parameters<typeof JobTable>[0]['selection'] };

function LiveJobs({ connection, root, filter, now, selection }: ListProps) {
  // One batch per repaint at most (hooks.ts): what moves faster is not read anyway.
  const published = { ...(filter.type === '' ? {} : { type: filter.type }), ...(filter.status === '' ? {} : { status: filter.status }), limit: listLimit, throttleMs: repaintIntervalMs };
  const subscription = useSubscription(connection, `${root}.jobs`, [published]);
  const jobs = useDocuments(connection, `${root}.jobs`, newestFirst).filter(
    (job) => (filter.type === '' || job.type === filter.type) && (filter.status === '' || job.status === filter.status),
  );
  const older = useOlderPages(connection, root, filter);
  return (
    <>
      {subscription.error !== undefined && <p role="alert">Cannot list jobs: {subscription.error.reason}</p>}
      {!subscription.ready && subscription.error === undefined && <p role="status">Loading jobs…</p>}
      {subscription.ready && jobs.length === 0 && <p>No job matches this filter.</p>}
      {jobs.length > 0 && (
        <JobTable
          caption={jobs.length === listLimit ? `The ${listLimit} jobs with the newest activity, live` : `${jobs.length} jobs, newest activity first, live`}
          jobs={jobs}
          now={now}
          selection={selection}
        />
      )}
      <OlderJobs older={older} shown={jobs} last={jobs.length === listLimit ? jobs.at(-1) : undefined} now={now} selection={selection} />
    </>
  );
}

function ListedJobs({ connection, root, filter, now, selection }: ListProps) {
  const [first, setFirst] = useState<Doc[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [readAt, setReadAt] = useState<Date | undefined>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      try {
        const page = await connection.call<Doc[]>(`${root}_jobList`, scopeOf(filter).selection, { limit: listLimit, order: filter.order });
        if (stopped) return;
        setFirst(page);
        setReadAt(new Date());
        setError(undefined);
      } catch (failure) {
        if (!stopped) setError(failure instanceof DdpError ? (failure.reason ?? String(failure.error)) : 'the server did not answer');
      } finally {
        if (!stopped) timer = setTimeout(() => void read(), refreshMs);
      }
    };
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [connection, root]);
  const older = useOlderPages(connection, root, filter);
  const searching = filter.text.trim() !== '';
  const order = searching ? 'newest saved first' : orders.find((option) => option.value === filter.order)?.label ?? filter.order;
  return (
    <>
      {error !== undefined && <p role="alert">Cannot list jobs: {error}</p>}
      {first === undefined && error === undefined && <p role="status">{searching ? 'Searching…' : 'Loading jobs…'}</p>}
      {first !== undefined && first.length === 0 && <p>No job matches this filter.</p>}
      {first !== undefined && first.length > 0 && (
        <JobTable
          caption={`${first.length === listLimit ? `The first ${listLimit}` : first.length} ${searching ? 'matches' : 'jobs'}, ${order}, as of ${readAt?.toLocaleTimeString() ?? ''} (read again every ${refreshMs / 1000} s)`}
          jobs={first}
          now={now}
          selection={selection}
        />
      )}
      <OlderJobs older={older} shown={first ?? []} last={first?.length === listLimit ? first.at(-1) : undefined} now={now} selection={selection} />
    </>
  );
}

type OlderPages = ReturnType<typeof useOlderPages>;

function OlderJobs({ older, shown, last, now, selection }: { older: OlderPages; shown: Doc[]; last: Doc | undefined; now: number; selection: ListProps['selection'] }) {
  return (
    <>
      {older.jobs.length > 0 && (
        <JobTable caption="Older jobs, as they were when loaded" jobs={older.jobs.filter((job) => !shown.some((other) => other._id === job._id))} now={now} selection={selection} />
      )}
      {older.error !== undefined && <p role="alert">Cannot load older jobs: {older.error}</p>}
      {last !== undefined && !older.exhausted && (
        <button type="button" onClick={() => void older.more(older.jobs.at(-1) ?? last)} disabled={older.loading}>
          Show {olderPage} more jobs
        </button>
      )}
      {older.exhausted && <p>No more jobs.</p>}
    </>
  );
}

/** Pages of jobs after a given one, in the filter's order (the component is made again when the filter changes). */
function useOlderPages(connection: DdpConnection, root: string, filter: JobsFilter) {
  const [jobs, setJobs] = useState<Doc[]>([]);
  const [exhausted, setExhausted] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const mounted = useRef(true);
  useEffect(() => () => void (mounted.current = false), []);
  const more = async (last: Doc | undefined) => {
    if (last === undefined) return;
    setLoading(true);
    try {
      const after = { id: last._id, updated: last.updated, created: last.created, priority: last.priority };
      const page = await connection.call<Doc[]>(`${root}_jobList`, scopeOf(filter).selection, { limit: olderPage, order: filter.order, after });
      if (!mounted.current) return;
      setJobs((shown) => [...shown, ...page.filter((job) => !shown.some((other) => other._id === job._id))]);
      if (page.length < olderPage) setExhausted(true);
      setError(undefined);
    } catch (failure) {
      if (mounted.current) setError(failure instanceof DdpError ? (failure.reason ?? String(failure.error)) : 'the server did not answer');
    } finally {
      if (mounted.current) setLoading(false);
    }
  };
  return { jobs, exhausted, loading, error, more };
}
