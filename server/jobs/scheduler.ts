/**
 * The promotion loop of one collection root. Upstream promoted delayed jobs and retries only
 * every 15 s (docs/PROTOCOL.md §5.2); here a job becomes ready when it is due: every change
 * that leaves a job waiting re-arms a timer for the earliest due time. The periodic pass
 * remains as a backstop and to fail running jobs whose lease (`workTimeout`) has expired.
 * When servers share a database, only the holder of the root's leadership runs passes, so a
 * job is promoted or expired once; the others' timers stay idle until they lead.
 *
 * A pass writes: `Promoted to ready` on each due job (feed: waiting → ready), and for each
 * expired lease `Job Failed with[ Fatal] Error: Failed for exceeding worker set workTimeout.`
 * (feed: running → waiting or failed).
 */
import type { JobFeed } from '../feed/job-feed.ts';
import type { Leadership } from '../store/server-leases.ts';
import type { JobContext } from './context.ts';
import { failRun } from './job-run.ts';
import { serverFailures } from './log-messages.ts';
import { promoteDue } from './promote.ts';

export interface SchedulerOptions {
  /** Period of the backstop pass (jobCollection's `promote`), in ms. */
  promoteIntervalMs: number;
  /** Jobs promoted per transaction: a backlog is worked off in turns, never in one long block. */
  promotionChunk: number;
}

export const schedulerDefaults: SchedulerOptions = {
  promoteIntervalMs: 15_000,
  promotionChunk: 500,
};

export class PromotionScheduler {
  readonly #ctx: JobContext;
  readonly #feed: JobFeed;
  readonly #leadership: Leadership;
  readonly #options: SchedulerOptions;
  #interval: NodeJS.Timeout | undefined;
  #dueTimer: NodeJS.Timeout | undefined;
  #dueAt = Number.POSITIVE_INFINITY;
  #running: Promise<void> | undefined;
  #rerun = false;
  #unsubscribe: (() => void)[] = [];
  #stopped = false;

  /** @param leadership Only its holder promotes and expires: one server of those sharing a database. */
  constructor(ctx: JobContext, feed: JobFeed, leadership: Leadership, options: Partial<SchedulerOptions> = {}) {
    this.#ctx = ctx;
    this.#feed = feed;
    this.#leadership = leadership;
    this.#options = { ...schedulerDefaults, ...options };
  }

  start(): void {
    this.#interval = setInterval(() => this.runPass(), this.#options.promoteIntervalMs);
    this.#unsubscribe = [
      this.#feed.subscribe('promotion scheduler', (changes) => {
        if (changes.some((change) => change.status === 'waiting')) this.#armForNextDue();
      }),
      // Started again: what fell due while stopped is promoted at once.
      this.#ctx.state.onChange((stopped) => {
        if (!stopped) this.runPass();
      }),
      // Became the leader: what fell due meanwhile is promoted at once.
      this.#leadership.onChange((held) => {
        if (held) this.runPass();
      }),
    ];
    this.runPass();
  }

  /** Runs a pass now (coalesced with one already running). */
  runPass(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#rerun = true;
      return;
    }
    this.#running = this.#pass()
      .catch((error: unknown) => this.#ctx.logger.error({ err: error }, 'promotion pass failed'))
      .finally(() => {
        this.#running = undefined;
        if (this.#rerun) {
          this.#rerun = false;
          this.runPass();
        } else {
          this.#armForNextDue();
        }
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#interval);
    clearTimeout(this.#dueTimer);
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.#interval = undefined;
    this.#dueTimer = undefined;
    await this.#running;
  }

  async #pass(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.state.stopped || !this.#leadership.held) return;
    const expired = await ctx.store.transaction((tx) => tx.expired(ctx.clock.now()));
    for (const job of expired) {
      // One transaction each, so that a job that cannot be failed does not hold back the rest.
      await ctx.store
        .transaction(async (tx) => {
          const current = await tx.get(job._id);
          if (current?.status === 'running' && current.runId === job.runId) {
            await failRun(ctx, tx, current, { value: serverFailures.leaseExpired }, false);
          }
        })
        .catch((error: unknown) => ctx.logger.error({ err: error, jobId: job._id }, 'failing an expired job failed'));
    }
    const chunk = this.#options.promotionChunk;
    while (!this.#stopped && !ctx.state.stopped && this.#leadership.held) {
      const promoted = await ctx.store.transaction((tx) => promoteDue(ctx, tx, chunk));
      if (promoted < chunk) break;
      // Let pings, method calls and other roots' writes in between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Arms a timer for the earliest due waiting job, if it comes before the next periodic pass. */
  #armForNextDue(): void {
    // While stopped nothing is promoted, so a due job would re-arm the timer forever.
    if (this.#interval === undefined || this.#ctx.state.stopped || !this.#leadership.held) return;
    this.#ctx.store.nextPromotionTime().then(
      (next) => {
        if (next === undefined || this.#interval === undefined) return;
        const at = next.getTime();
        if (at >= this.#dueAt && this.#dueTimer !== undefined) return;
        const delay = Math.max(0, at - this.#ctx.clock.now().getTime());
        if (delay >= this.#options.promoteIntervalMs) return;
        clearTimeout(this.#dueTimer);
        this.#dueAt = at;
        this.#dueTimer = setTimeout(() => {
          this.#dueTimer = undefined;
          this.#dueAt = Number.POSITIVE_INFINITY;
          this.runPass();
        }, delay);
      },
      (error: unknown) => this.#ctx.logger.error({ err: error }, 'reading the next due time failed'),
    );
  }
}
