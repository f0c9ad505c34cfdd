/**
 * `<root>.jobs` (docs/PROTOCOL.md §7.6): live job documents selected by a typed filter (status,
 * type, ids; limit), newest activity first. Subscriptions with the same filter share one live
 * query (live-jobs.ts).
 */
import { jobsCollectionName } from '../../shared/constants.ts';
import { matchFailed, notAuthorized } from '../../shared/errors.ts';
import { jobsFilter, jobsPublicationLimit, type JobsFilter } from '../../shared/publications.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { DdpServer, Subscription } from '../ddp/index.ts';
import type { JobFilter } from '../store/job-store.ts';
import type { LiveSubscriber } from './job-query-observer.ts';
import type { LiveJobs } from './live-jobs.ts';

export interface JobsPublicationDeps {
  root: string;
  auth: Authenticator;
  live: LiveJobs;
}

export function registerJobsPublication(ddp: DdpServer, deps: JobsPublicationDeps): void {
  const collection = jobsCollectionName(deps.root);
  // Every live query shows a job with the same fields: connections need no copy of each.
  ddp.shareDocuments(collection);
  ddp.publish(collection, async (sub, [rawFilter]) => {
    if (!deps.auth.mayRead(sub.userId)) throw notAuthorized();
    const parsed = jobsFilter.optional().safeParse(rawFilter);
    if (!parsed.success) throw matchFailed(`filter: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const limit = parsed.data?.limit ?? jobsPublicationLimit.default;
    const handle = await deps.live.subscribe(toStoreFilter(parsed.data ?? {}), limit, subscriberOf(sub, collection), parsed.data?.throttleMs ?? 0);
    sub.onStop(() => handle.stop());
    sub.onFence(() => handle.flush());
    sub.ready();
  });
}

/** What a live query sends, as a subscription's `added`/`changed`/`removed` in `collection`. */
export function subscriberOf(sub: Subscription, collection: string): LiveSubscriber {
  return {
    added: (id, fields) => sub.added(collection, id, fields),
    changed: (id, fields) => sub.changed(collection, id, fields),
    removed: (id) => sub.removed(collection, id),
  };
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
