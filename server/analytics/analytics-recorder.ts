/**
 * Keeps the analytics of one collection root (docs/PROTOCOL.md §7.18): counts the runs this
 * server commits (run-events.ts) into per-type minute and hour periods in memory, and adds them
 * to the store every few seconds in one small transaction — it joins the group commit like any
 * other, so the job path pays nothing per job. Periods older than their retention are pruned.
 * What it read from the store plus what it has not written yet is what the publication shows;
 * reading the last periods back after each write brings in what other servers added.
 */
import {
  addCounts, analyticsRetentionMs, emptyCounts, resolutionMs, runTimeBucket,
  type AnalyticsPeriod, type AnalyticsResolution,
} from '../../shared/analytics.ts';
import type { JobFeed } from '../feed/job-feed.ts';
import type { Clock } from '../jobs/context.ts';
import type { Logger } from '../logger.ts';
import type { JobStore } from '../store/job-store.ts';
import { RunTracker } from './run-events.ts';

export interface AnalyticsRecorderDeps {
  store: JobStore;
  feed: JobFeed;
  clock: Clock;
  logger: Logger;
  /** How often counts are written (ms); a crash loses at most this much of them. */
  flushMs: number;
}

const resolutions: readonly AnalyticsResolution[] = ['minute', 'hour'];
const keyOf = (period: Pick<AnalyticsPeriod, 'resolution' | 'at' | 'type'>) => `${period.resolution}|${period.at.getTime()}|${period.type}`;

export class AnalyticsRecorder {
  readonly #deps: AnalyticsRecorderDeps;
  /** Periods as last read from the store. */
  readonly #stored = new Map<string, AnalyticsPeriod>();
  /** Counts not written yet. */
  #pending = new Map<string, AnalyticsPeriod>();
  readonly #listeners = new Set<() => void>();
  readonly #runs = new RunTracker();
  #unsubscribe: (() => void) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;
  #lastPrune = 0;

  constructor(deps: AnalyticsRecorderDeps) {
    this.#deps = deps;
  }

  /** Reads the kept periods and starts counting. */
  async start(): Promise<void> {
    const now = this.#deps.clock.now().getTime();
    for (const resolution of resolutions) {
      for (const period of await this.#deps.store.readAnalytics(resolution, new Date(now - analyticsRetentionMs[resolution]))) {
        this.#stored.set(keyOf(period), period);
      }
    }
    this.#unsubscribe = this.#deps.feed.subscribe('analytics', (changes) => {
      // Another server counts its own commits: each run is counted once, by the server that committed it.
      for (const event of this.#runs.events(changes.filter((change) => change.foreign !== true))) {
        if (event.kind !== 'started') this.#count(event.type, event.kind, event.runMs);
      }
    });
    this.#timer = setInterval(() => void this.flush(), this.#deps.flushMs);
    this.#timer.unref();
  }

  #count(type: string, kind: 'completed' | 'failed' | 'retried', runMs: number | undefined): void {
    const now = this.#deps.clock.now().getTime();
    for (const resolution of resolutions) {
      const at = new Date(now - (now % resolutionMs[resolution]));
      const key = keyOf({ resolution, at, type });
      let period = this.#pending.get(key);
      if (period === undefined) {
        period = { ...emptyCounts(), type, resolution, at };
        this.#pending.set(key, period);
      }
      period[kind] += 1;
      if (runMs !== undefined) {
        const bucket = runTimeBucket(runMs);
        period.runTimes[bucket] = (period.runTimes[bucket] ?? 0) + 1;
        period.runTimeTotalMs += runMs;
      }
    }
  }

  /** Writes the pending counts and reads the latest periods back; one at a time. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    const writing = this.#pending;
    this.#pending = new Map();
    const now = this.#deps.clock.now().getTime();
    const prune = now - this.#lastPrune >= 60_000;
    try {
      if (writing.size > 0 || prune) {
        await this.#deps.store.transaction(async (tx) => {
          if (writing.size > 0) await tx.addAnalytics([...writing.values()]);
          if (prune) for (const resolution of resolutions) await tx.pruneAnalytics(resolution, new Date(now - analyticsRetentionMs[resolution]));
        });
        if (prune) this.#lastPrune = now;
      }
    } catch (error) {
      // Kept for the next turn: the store may be back by then.
      for (const [key, period] of writing) this.#pendingPeriod(key, period);
      this.#deps.logger.warn({ err: error }, 'analytics not written yet; will try again');
      return;
    }
    try {
      // The periods still open, as every server's writes left them.
      for (const resolution of resolutions) {
        const since = new Date(now - (now % resolutionMs[resolution]) - resolutionMs[resolution]);
        for (const period of await this.#deps.store.readAnalytics(resolution, since)) this.#stored.set(keyOf(period), period);
      }
    } catch (error) {
      for (const [key, period] of writing) this.#storedPeriod(key, period);
      this.#deps.logger.warn({ err: error }, 'analytics written but not read back');
    }
    for (const [key, period] of this.#stored) {
      if (period.at.getTime() < now - analyticsRetentionMs[period.resolution]) this.#stored.delete(key);
    }
    for (const listener of this.#listeners) listener();
  }

  #pendingPeriod(key: string, period: AnalyticsPeriod): void {
    const pending = this.#pending.get(key);
    if (pending === undefined) this.#pending.set(key, period);
    else addCounts(pending, period);
  }

  #storedPeriod(key: string, period: AnalyticsPeriod): void {
    const stored = this.#stored.get(key);
    if (stored === undefined) this.#stored.set(key, { ...period, runTimes: [...period.runTimes] });
    else addCounts(stored, period);
  }

  /** The periods of a resolution from `since` on: as stored, plus what is not written yet. */
  periods(resolution: AnalyticsResolution, since: Date): AnalyticsPeriod[] {
    const merged = new Map<string, AnalyticsPeriod>();
    for (const source of [this.#stored, this.#pending]) {
      for (const [key, period] of source) {
        if (period.resolution !== resolution || period.at < since) continue;
        const seen = merged.get(key);
        if (seen === undefined) merged.set(key, { ...period, runTimes: [...period.runTimes] });
        else addCounts(seen, period);
      }
    }
    return [...merged.values()];
  }

  /** Called after each write, when the periods may have changed. */
  onUpdate(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops counting and writes what is pending. */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    clearInterval(this.#timer);
    await this.flush();
    this.#listeners.clear();
  }
}
