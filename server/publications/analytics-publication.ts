/**
 * `<root>.analytics` (docs/PROTOCOL.md §7.18): the analytics periods of one resolution over a
 * window back from now, one document per type and period, sent again where they changed after
 * each write of the recorder (every few seconds); periods leaving the window are removed.
 */
import { resolutionMs } from '../../shared/analytics.ts';
import { analyticsParams } from '../../shared/publications.ts';
import { analyticsCollectionName } from '../../shared/constants.ts';
import { matchFailed, notAuthorized } from '../../shared/errors.ts';
import type { AnalyticsRecorder } from '../analytics/analytics-recorder.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { DdpServer } from '../ddp/index.ts';
import type { Clock } from '../jobs/context.ts';
import { type Fields, sendSnapshot } from './field-diff.ts';

export interface AnalyticsPublicationDeps {
  root: string;
  auth: Authenticator;
  recorder: AnalyticsRecorder;
  clock: Clock;
}

export function registerAnalyticsPublication(ddp: DdpServer, deps: AnalyticsPublicationDeps): void {
  const collection = analyticsCollectionName(deps.root);
  ddp.publish(collection, (sub, params) => {
    if (!deps.auth.mayRead(sub.userId)) throw notAuthorized();
    const parsed = analyticsParams.optional().safeParse(params[0]);
    if (!parsed.success || params.length > 1) throw matchFailed(`${collection}: expected [{resolution?: 'minute' | 'hour', periods?: Number}]`);
    const resolution = parsed.data?.resolution ?? 'minute';
    const periods = parsed.data?.periods ?? (resolution === 'minute' ? 60 : 48);
    const published = new Map<string, Fields>();
    const refresh = () => {
      const now = deps.clock.now().getTime();
      const since = new Date(now - (now % resolutionMs[resolution]) - (periods - 1) * resolutionMs[resolution]);
      const current = new Map<string, Fields>();
      for (const { type, at, completed, failed, retried, runTimes, runTimeTotalMs } of deps.recorder.periods(resolution, since)) {
        current.set(`${at.getTime()}|${type}`, { type, resolution, at, completed, failed, retried, runTimes, runTimeTotalMs });
      }
      sendSnapshot(sub, collection, published, current);
    };
    refresh();
    sub.onStop(deps.recorder.onUpdate(refresh));
    sub.onFence(refresh);
    sub.ready();
  });
}
