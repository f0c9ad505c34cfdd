/**
 * The promotion loop of one collection root. Upstream promoted delayed jobs and retries only
 * every 15 s (§5.2); here a job becomes ready when it is due: every commit that leaves a job
 * waiting re-arms a timer for the earliest due time. The periodic pass remains as a backstop
 * and to fail running jobs whose lease (`workTimeout`) has expired.
 */
import type { JobContext } from './context.ts';
import { failRun } from './job-run.ts';
import { serverFailures } from './log-messages.ts';
import { promoteDue } from './promote.ts';

export interface SchedulerOptions {
  /** Period of the backstop pass (jobCollection's `promote`), in ms. */
  promoteIntervalMs: number;
}

/** Jobs promoted per transaction: a backlog is worked off in turns, never in one long block. */
const promotionChunk = 500;

export class PromotionScheduler {
  private readonly ctx: JobContext;
  private readonly options: SchedulerOptions;
  private interval: NodeJS.Timeout | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private dueAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private rerun = false;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(ctx: JobContext, options: SchedulerOptions) {
    this.ctx = ctx;
    this.options = options;
  }

  start(): void {
    this.interval = setInterval(() => this.runPass(), this.options.promoteIntervalMs);
    this.unsubscribe = this.ctx.store.onCommit((changes) => {
      if (changes.some((change) => change.status === 'waiting')) this.armForNextDue();
    });
    this.runPass();
  }

  /** Runs a pass now (coalesced with one already running), e.g. after the server is started again. */
  runPass(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.rerun = true;
      return;
    }
    this.running = this.pass()
      .catch((error: unknown) => this.ctx.logger.error({ err: error, root: this.ctx.root }, 'promotion pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.rerun) {
          this.rerun = false;
          this.runPass();
        } else {
          this.armForNextDue();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    clearTimeout(this.dueTimer);
    this.unsubscribe?.();
    this.interval = undefined;
    this.dueTimer = undefined;
    await this.running;
  }

  private async pass(): Promise<void> {
    const ctx = this.ctx;
    if (ctx.state.stopped) return;
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
    while (!this.stopped && !ctx.state.stopped) {
      const promoted = await ctx.store.transaction((tx) => promoteDue(ctx, tx, promotionChunk));
      if (promoted < promotionChunk) break;
      // Let pings, method calls and other roots' writes in between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Arms a timer for the earliest due waiting job, if it comes before the next periodic pass. */
  private armForNextDue(): void {
    // While stopped nothing is promoted, so a due job would re-arm the timer forever.
    if (this.interval === undefined || this.ctx.state.stopped) return;
    this.ctx.store.nextPromotionTime().then(
      (next) => {
        if (next === undefined || this.interval === undefined) return;
        const at = next.getTime();
        if (at >= this.dueAt && this.dueTimer !== undefined) return;
        const delay = Math.max(0, at - this.ctx.clock.now().getTime());
        if (delay >= this.options.promoteIntervalMs) return;
        clearTimeout(this.dueTimer);
        this.dueAt = at;
        this.dueTimer = setTimeout(() => {
          this.dueTimer = undefined;
          this.dueAt = Number.POSITIVE_INFINITY;
          this.runPass();
        }, delay);
      },
      (error: unknown) => this.ctx.logger.error({ err: error, root: this.ctx.root }, 'reading the next due time failed'),
    );
  }
}
