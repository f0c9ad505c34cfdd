/** `<root>.stats`: one document per job type with the number of jobs in each status. */
import { jobStatuses, statsCollectionName } from '../../shared/constants.ts';
import { notAuthorized } from '../../shared/errors.ts';
import type { DdpServer } from '../ddp/index.ts';
import { publishLive, type Fields } from './live-query.ts';
import type { PublicationDeps } from './jobs-publication.ts';

export function registerStatsPublication(ddp: DdpServer, deps: PublicationDeps): void {
  const collection = statsCollectionName(deps.root);
  ddp.publish(collection, async (sub) => {
    if (!deps.auth.mayRead(sub.userId)) throw notAuthorized();
    const fetch = async (): Promise<Map<string, Fields>> => {
      const counts = await deps.store.counts();
      return new Map(Object.entries(counts).map(([type, byStatus]) => {
        const fields: Fields = { type };
        let total = 0;
        for (const status of jobStatuses) {
          const n = byStatus[status] ?? 0;
          fields[status] = n;
          total += n;
        }
        fields.total = total;
        return [type, fields];
      }));
    };
    // Only a status change (or an insert or removal) moves a count.
    await publishLive(sub, collection, fetch, (change) => change.status !== change.previousStatus, deps);
  });
}
