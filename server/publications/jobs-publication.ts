/** `<root>.jobs`: live job documents selected by a typed filter (status, type, ids; limit). */
import { jobsCollectionName } from '../../shared/constants.ts';
import { matchFailed, notAuthorized } from '../../shared/errors.ts';
import { jobsFilter, jobsPublicationLimit, type JobsFilter } from '../../shared/publications.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { DdpServer } from '../ddp/index.ts';
import type { JobFeed } from '../feed/job-feed.ts';
import type { Logger } from '../logger.ts';
import type { JobChange, JobFilter, JobStore } from '../store/job-store.ts';
import { forClient } from '../jobs/job-docs.ts';
import { publishLive, type Fields } from './live-query.ts';

export interface PublicationDeps {
  root: string;
  store: JobStore;
  feed: JobFeed;
  auth: Authenticator;
  logger: Logger;
  throttleMs: number;
}

export function registerJobsPublication(ddp: DdpServer, deps: PublicationDeps): void {
  const collection = jobsCollectionName(deps.root);
  ddp.publish(collection, async (sub, [rawFilter]) => {
    if (!deps.auth.mayRead(sub.userId)) throw notAuthorized();
    const parsed = jobsFilter.optional().safeParse(rawFilter);
    if (!parsed.success) throw matchFailed(`filter: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const filter = toStoreFilter(parsed.data ?? {});
    const limit = parsed.data?.limit ?? jobsPublicationLimit.default;
    const fetch = async (): Promise<Map<string, Fields>> => {
      const jobs = await deps.store.list(filter, { limit, order: 'updated-desc' });
      return new Map(jobs.map((job) => {
        const { _id, ...fields } = forClient(job, { failures: false });
        return [_id, fields];
      }));
    };
    await publishLive(sub, collection, fetch, (change) => mayAffect(filter, change), deps);
  });
}

function toStoreFilter(filter: JobsFilter): JobFilter {
  const list = <T>(value: T | T[] | undefined): T[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);
  const statuses = list(filter.status);
  const types = list(filter.type);
  return {
    ...(statuses === undefined ? {} : { statuses }),
    ...(types === undefined ? {} : { types }),
    ...(filter.ids === undefined ? {} : { ids: filter.ids }),
  };
}

/** Whether a change can alter the answer of the filter: cheap, so that unrelated writes cost nothing. */
function mayAffect(filter: JobFilter, change: JobChange): boolean {
  if (filter.ids !== undefined && !filter.ids.includes(change.id)) return false;
  if (filter.types !== undefined && !filter.types.includes(change.type)) return false;
  if (filter.statuses === undefined) return true;
  return [change.status, change.previousStatus].some((s) => s !== null && filter.statuses?.includes(s));
}
