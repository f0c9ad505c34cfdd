/** A table of jobs with a checkbox per row, for the Jobs page's lists. */
import type { JobStatus } from '../../../shared/constants.ts';
import type { Doc } from '../ddp/ddp-connection.ts';
import { StatusBadge } from './status-badge.tsx';
import { TimeAgo } from './time-ago.tsx';

export interface Selection {
  has(id: string): boolean;
  /** Selects or unselects these jobs. */
  set(ids: readonly string[], selected: boolean): void;
}

export function JobTable({ caption, jobs, now, selection }: { caption: string; jobs: Doc[]; now: number; selection: Selection }) {
  const allSelected = jobs.length > 0 && jobs.every((job) => selection.has(job._id));
  return (
    <div class="table-scroll">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">
              <input
                type="checkbox"
                aria-label="Select every job of this table"
                checked={allSelected}
                onChange={(event) => selection.set(jobs.map((job) => job._id), event.currentTarget.checked)}
              />
            </th>
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
                <input
                  type="checkbox"
                  aria-label={`Select job ${job._id}`}
                  checked={selection.has(job._id)}
                  onChange={(event) => selection.set([job._id], event.currentTarget.checked)}
                />
              </td>
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

export function Progress({ job }: { job: Doc }) {
  const progress = job.progress as { completed: number; total: number; percent: number } | undefined;
  const percent = Math.round(progress?.percent ?? 0);
  return (
    <progress max={100} value={percent} aria-label={`${percent}% done`} title={`${progress?.completed ?? 0} of ${progress?.total ?? 1}`}>
      {percent}%
    </progress>
  );
}
