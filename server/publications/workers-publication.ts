/**
 * `<root>.workers` (docs/PROTOCOL.md §7.6): the connections of this server that asked a root for
 * work — their name, the types they ask for, their concurrency and machine load, how many jobs
 * they run now, since when they ask. The registry lives in memory and changes with every claim,
 * so each subscription compares it with what it sent once a second and sends the differences.
 */
import { workersCollectionName } from '../../shared/constants.ts';
import { notAuthorized } from '../../shared/errors.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { DdpServer } from '../ddp/index.ts';
import type { ClaimTracker } from '../jobs/claim-tracker.ts';
import type { WorkerRegistry } from '../jobs/worker-registry.ts';
import { type Fields, sendSnapshot } from './field-diff.ts';

export interface WorkersPublicationDeps {
  root: string;
  auth: Authenticator;
  workers: WorkerRegistry;
  claims: ClaimTracker;
  /** How often the registry is compared with what was sent (ms). */
  refreshMs: number;
}

export function registerWorkersPublication(ddp: DdpServer, deps: WorkersPublicationDeps): void {
  const collection = workersCollectionName(deps.root);
  ddp.publish(collection, (sub) => {
    if (!deps.auth.mayRead(sub.userId)) throw notAuthorized();
    const published = new Map<string, Fields>();
    const refresh = () => {
      const current = new Map<string, Fields>();
      for (const worker of deps.workers.list()) {
        current.set(worker.connectionId, {
          name: worker.name ?? null,
          types: [...worker.types],
          concurrency: worker.concurrency,
          cpuLoad: worker.cpuLoad,
          running: deps.claims.load(worker.connectionId),
          since: worker.since,
        });
      }
      sendSnapshot(sub, collection, published, current);
    };
    refresh();
    const timer = setInterval(refresh, deps.refreshMs);
    timer.unref();
    sub.onStop(() => clearInterval(timer));
    sub.onFence(refresh);
    sub.ready();
  });
}
