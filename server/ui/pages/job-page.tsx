/**
 * One job: its fields and every timestamp, data, result and failures, its log, its progress,
 * the jobs it depends on and its chain, who ran it, and the actions an admin may take on it.
 * All of it is live (`<root>.job`): a log entry appears as the worker writes it.
 */
import EJSON from 'ejson';
import { useState } from 'preact/hooks';
import { foreverDate, type JobStatus } from '../../../shared/constants.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { TimeAgo } from '../components/time-ago.tsx';
import { DdpError, type DdpConnection, type Doc } from '../ddp/ddp-connection.ts';
import { absoluteTime, isNever } from '../format.ts';
import { useDocuments, useSubscription, useTicker } from '../hooks.ts';
import { Progress } from '../components/job-table.tsx';

interface LogEntry {
  time: Date;
  runId: string | null;
  level: string;
  message: string;
  data?: Record<string, unknown>;
}

const byIndex = (a: Doc, b: Doc) => Number(a.index) - Number(b.index);

const timeFields = ['created', 'updated', 'after', 'expiresAfter', 'retryUntil', 'repeatUntil'] as const;

/** The actions of the job page: method, label, and the statuses it applies to. */
const actions: { method: string; label: string; when: readonly JobStatus[]; params?: (id: string) => unknown[] }[] = [
  { method: 'jobPause', label: 'Pause', when: ['ready', 'waiting'] },
  { method: 'jobResume', label: 'Resume', when: ['paused'] },
  // Whatever it waits for, its delay or its antecedents: as jobReady with force and the end of time.
  { method: 'jobReady', label: 'Ready now', when: ['waiting'], params: (id) => [[id], { force: true, time: foreverDate }] },
  { method: 'jobCancel', label: 'Cancel', when: ['running', 'ready', 'waiting', 'paused'] },
  { method: 'jobRestart', label: 'Restart', when: ['cancelled', 'failed'] },
  { method: 'jobRerun', label: 'Rerun', when: ['completed'], params: (id) => [id] },
  { method: 'jobRemove', label: 'Remove', when: ['cancelled', 'completed', 'failed'] },
];

export function JobPage({ connection, root, id }: { connection: DdpConnection; root: string; id: string }) {
  const subscription = useSubscription(connection, `${root}.job`, [id]);
  const job = useDocuments(connection, `${root}.job`).find((doc) => doc._id === id);
  // The log comes one document per entry, each sent once as it is written.
  const log = useDocuments(connection, `${root}.jobLog`, byIndex).filter((entry) => entry.job === id) as unknown as LogEntry[];
  const [outcome, setOutcome] = useState<string | undefined>();
  const now = useTicker(5_000);

  const act = async (method: string, params: unknown[], label: string) => {
    if (method === 'jobRemove' && !confirm(`Remove job ${id} and its log? This cannot be undone.`)) return;
    try {
      const answer = await connection.call(`${root}_${method}`, ...params);
      setOutcome(answer === false || answer === null ? `${label}: nothing to do for this job now.` : `${label}: done.`);
    } catch (error) {
      setOutcome(error instanceof DdpError ? `${label} refused: ${error.reason ?? error.error}` : `${label} failed.`);
    }
  };

  if (subscription.error !== undefined) {
    return (
      <section aria-labelledby="job-title">
        <h1 id="job-title">Job {id}</h1>
        <p role="alert">Cannot show this job: {subscription.error.reason ?? String(subscription.error.error)}</p>
      </section>
    );
  }
  if (subscription.ready && job === undefined) {
    return (
      <section aria-labelledby="job-title">
        <h1 id="job-title">Job {id}</h1>
        <p>There is no such job in {root} (it may have been removed).</p>
      </section>
    );
  }
  if (job === undefined) return <p role="status">Loading job {id}…</p>;
  const status = job.status as JobStatus;
  const chain = job.chain as { id: string; index: number; length: number } | undefined;
  const worker = job.worker as { name: string; connection: string } | undefined;
  return (
    <article aria-labelledby="job-title" class="job">
      <header>
        <h1 id="job-title">
          {String(job.type)} <code>{id}</code>
        </h1>
        <p>
          <StatusBadge status={status} /> <Progress job={job} />{' '}
          {typeof job.name === 'string' && <span class="name">{job.name}</span>}
        </p>
      </header>
      <section aria-labelledby="actions-title" class="actions">
        <h2 id="actions-title">Actions</h2>
        <div role="group" aria-label="Actions on this job">
          {actions
            .filter((action) => action.when.includes(status))
            .map((action) => (
              <button type="button" key={action.method} onClick={() => void act(action.method, action.params?.(id) ?? [[id]], action.label)}>
                {action.label}
              </button>
            ))}
        </div>
        <p role="status" aria-live="polite">
          {outcome}
        </p>
      </section>
      <section aria-labelledby="facts-title">
        <h2 id="facts-title">Details</h2>
        <dl class="facts">
          {timeFields.map((field) =>
            job[field] instanceof Date ? (
              <div key={field}>
                <dt>{field}</dt>
                <dd>
                  <TimeAgo date={job[field]} now={now} />
                  {!isNever(job[field]) && <span class="absolute"> ({absoluteTime(job[field])})</span>}
                </dd>
              </div>
            ) : null,
          )}
          <div>
            <dt>priority</dt>
            <dd>{String(job.priority)}</dd>
          </div>
          <div>
            <dt>attempts</dt>
            <dd>
              {String(job.retried)} started, {String(job.retries)} left (retry wait {String(job.retryWait)} ms, {String(job.retryBackoff)})
            </dd>
          </div>
          <div>
            <dt>repeats</dt>
            <dd>
              {String(job.repeated)} made, {String(job.repeats)} left
            </dd>
          </div>
          {job.runId !== null && (
            <div>
              <dt>run</dt>
              <dd>
                <code>{String(job.runId)}</code>
              </dd>
            </div>
          )}
          {worker !== undefined && (
            <div>
              <dt>worker</dt>
              <dd>
                {worker.name} (connection <code>{worker.connection}</code>)
              </dd>
            </div>
          )}
          {chain !== undefined && (
            <div>
              <dt>chain</dt>
              <dd>
                link {chain.index + 1} of {chain.length} of chain <code>{chain.id}</code>
              </dd>
            </div>
          )}
          {typeof job.parent === 'string' && (
            <div>
              <dt>submitted by</dt>
              <dd>
                <a href={`#/job/${encodeURIComponent(job.parent)}`}>
                  <code>{job.parent}</code>
                </a>
              </dd>
            </div>
          )}
          <JobLinks label="depends on" ids={job.depends} />
          <JobLinks label="resolved" ids={job.resolved} />
        </dl>
      </section>
      <Value title="Data" value={job.data} />
      {job.result !== undefined && <Value title="Result" value={job.result} />}
      {Array.isArray(job.failures) && job.failures.length > 0 && <Value title="Failures" value={job.failures} />}
      <section aria-labelledby="log-title">
        <h2 id="log-title">Log</h2>
        {/* A busy job writes many entries: they are not read out one by one. */}
        <ol class="log" role="log" aria-live="off">
          {log.map((entry, index) => (
            <li key={index} class={`level-${entry.level}`}>
              <TimeAgo date={entry.time} now={now} /> <span class="level">{entry.level}</span> {entry.message}
              {entry.data !== undefined && <code class="data"> {EJSON.stringify(entry.data)}</code>}
            </li>
          ))}
        </ol>
      </section>
    </article>
  );
}

function JobLinks({ label, ids }: { label: string; ids: unknown }) {
  if (!Array.isArray(ids) || ids.length === 0) return null;
  return (
    <div>
      <dt>{label}</dt>
      <dd>
        {ids.map((other: string) => (
          <a key={other} href={`#/job/${encodeURIComponent(other)}`}>
            <code>{other}</code>{' '}
          </a>
        ))}
      </dd>
    </div>
  );
}

function Value({ title, value }: { title: string; value: unknown }) {
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      <pre class="value">
        <code>{EJSON.stringify(value, { indent: true })}</code>
      </pre>
    </section>
  );
}
