/**
 * `<root>.stats` (docs/PROTOCOL.md §7.6): one document per job type with the number of jobs in
 * each status and in all, kept by deltas (live-stats.ts).
 */
import { statsCollectionName } from '../../shared/constants.ts';
import { notAuthorized } from '../../shared/errors.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { DdpServer } from '../ddp/index.ts';
import { subscriberOf } from './jobs-publication.ts';
import type { LiveStats } from './live-stats.ts';

export interface StatsPublicationDeps {
  root: string;
  auth: Authenticator;
  stats: LiveStats;
}

export function registerStatsPublication(ddp: DdpServer, deps: StatsPublicationDeps): void {
  const collection = statsCollectionName(deps.root);
  ddp.shareDocuments(collection);
  ddp.publish(collection, async (sub) => {
    if (!deps.auth.mayRead(sub.userId)) throw notAuthorized();
    const handle = await deps.stats.subscribe(subscriberOf(sub, collection));
    sub.onStop(() => handle.stop());
    sub.onFence(() => handle.flush());
    sub.ready();
  });
}
