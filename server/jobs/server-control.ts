/** Starting and stopping a root's job server: `startJobServer` / `shutdownJobServer` (PROTOCOL §2.3). */
import { methodDefaults } from '../../shared/constants.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { JobContext } from './context.ts';
import { failRun } from './job-run.ts';
import { serverFailures } from './log-messages.ts';

function clearShutdownTimer(ctx: JobContext): void {
  if (ctx.state.shutdownTimer !== undefined) clearTimeout(ctx.state.shutdownTimer);
  ctx.state.shutdownTimer = undefined;
}

export async function startJobServer(ctx: JobContext, _params: MethodParams<'startJobServer'>): Promise<true> {
  clearShutdownTimer(ctx);
  ctx.state.stopped = false;
  return true;
}

/**
 * Stops handing out work at once; after `timeout` ms every job still running is failed
 * (non-fatally, so it retries if it can). Upstream never managed the latter (§5.1).
 */
export async function shutdownJobServer(ctx: JobContext, [options = {}]: MethodParams<'shutdownJobServer'>): Promise<true> {
  clearShutdownTimer(ctx);
  ctx.state.stopped = true;
  // Waiting getWork calls would otherwise hold their workers until their waitMs.
  ctx.dispatcher.answerAll();
  const timer = setTimeout(() => {
    ctx.state.shutdownTimer = undefined;
    failRunningJobs(ctx).catch((error: unknown) => ctx.logger.error({ err: error, root: ctx.root }, 'failing running jobs at shutdown failed'));
  }, options.timeout ?? methodDefaults.shutdownTimeoutMs);
  // A pending deadline must not keep the process alive.
  timer.unref();
  ctx.state.shutdownTimer = timer;
  return true;
}

/** Fails every running job, non-fatally, with the shutdown reason. Returns how many. */
export async function failRunningJobs(ctx: JobContext): Promise<number> {
  return ctx.store.transaction(async (tx) => {
    let failed = 0;
    for (const job of await tx.find({ statuses: ['running'] })) {
      if (await failRun(ctx, tx, job, { value: serverFailures.shutdown }, false)) failed += 1;
    }
    if (failed > 0) ctx.logger.warn({ root: ctx.root, failed }, 'failed running jobs at job server shutdown');
    return failed;
  });
}
