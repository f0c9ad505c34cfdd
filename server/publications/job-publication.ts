/**
 * `<root>.job` (docs/PROTOCOL.md §7.6): one job with its failures, and its log as one document
 * per entry in `<root>.jobLog`, for a page that watches a job run. It follows every change of
 * the job, a log entry alone included (which `<root>.jobs` does not show), reading the job again
 * at most once per throttle interval. A log only grows: each new entry is sent once, never the
 * whole log again. Meant for a few watchers of a job (a person looking at it), not for
 * thousands: each subscription reads the job itself.
 */
import { jobCollectionName, jobLogCollectionName } from '../../shared/constants.ts';
import { matchFailed, notAuthorized } from '../../shared/errors.ts';
import { id as idSchema } from '../../shared/schemas.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { DdpServer } from '../ddp/index.ts';
import type { JobFeed } from '../feed/job-feed.ts';
import { forClient } from '../jobs/job-docs.ts';
import type { Logger } from '../logger.ts';
import type { JobStore } from '../store/job-store.ts';
import { type Fields, fieldDiff } from './field-diff.ts';

export interface JobPublicationDeps {
  root: string;
  auth: Authenticator;
  store: JobStore;
  feed: JobFeed;
  logger: Logger;
  /** At most one read of the job per this interval, however many changes (ms). */
  throttleMs: number;
}

export function registerJobPublication(ddp: DdpServer, deps: JobPublicationDeps): void {
  const collection = jobCollectionName(deps.root);
  const logCollection = jobLogCollectionName(deps.root);
  ddp.publish(collection, async (sub, [rawId]) => {
    if (!deps.auth.mayRead(sub.userId)) throw notAuthorized();
    const parsed = idSchema.safeParse(rawId);
    if (!parsed.success) throw matchFailed(`id: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const jobId = parsed.data;
    let published: Fields | undefined;
    /** How many log entries were sent: entries are only ever appended. */
    let logSent = 0;
    const logId = (index: number) => `${jobId}:${index}`;
    let timer: NodeJS.Timeout | undefined;
    let reading: Promise<void> = Promise.resolve();
    let stopped = false;

    const refresh = async () => {
      const [job] = await deps.store.getJobs([jobId], { log: true, failures: true });
      if (stopped) return;
      if (job === undefined) {
        if (published !== undefined) sub.removed(collection, jobId);
        for (let index = 0; index < logSent; index += 1) sub.removed(logCollection, logId(index));
        published = undefined;
        logSent = 0;
        return;
      }
      const { _id: _ignored, log = [], ...fields } = forClient(job, { failures: true });
      for (; logSent < log.length; logSent += 1) sub.added(logCollection, logId(logSent), { job: jobId, index: logSent, ...log[logSent] });
      if (published === undefined) {
        sub.added(collection, jobId, fields);
      } else {
        const diff = fieldDiff(published, fields);
        if (diff !== undefined) sub.changed(collection, jobId, diff);
      }
      published = fields;
    };
    const read = () => {
      timer = undefined;
      reading = reading.then(refresh).catch((error: unknown) => deps.logger.error({ err: error, jobId }, 'reading a watched job failed'));
    };
    const unsubscribe = deps.feed.subscribe(`${collection} ${jobId}`, (changes) => {
      if (timer === undefined && changes.some((change) => change.id === jobId)) timer = setTimeout(read, deps.throttleMs);
    });
    sub.onStop(() => {
      stopped = true;
      unsubscribe();
      clearTimeout(timer);
    });
    // A method's answer waits for this: the caller sees its own change of the job first.
    sub.onFence(async () => {
      if (timer !== undefined) {
        clearTimeout(timer);
        read();
      }
      await reading;
    });
    // The first read is chained like the others, so a change arriving meanwhile reads after it.
    reading = refresh();
    await reading;
    sub.ready();
  });
}
