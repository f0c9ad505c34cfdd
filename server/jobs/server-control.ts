/**
 * Starting and stopping a root's job server: `startJobServer` / `shutdownJobServer`
 * (docs/PROTOCOL.md §2.1, §2.3).
 *
 * startJobServer(options {}) → true
 *   Writes nothing. Cancels a pending shutdown deadline; the scheduler runs a promotion pass
 *   at once (it follows the state), so what fell due while stopped becomes ready.
 * shutdownJobServer(options {timeout = 60000 ms}) → true
 *   Stops handing out work at once (getWork answers [], jobProgress null, waiting getWork calls
 *   are answered []). When `timeout` passes, every job still running is failed non-fatally with
 *   `Running at Job Server shutdown.` (log `Job Failed with Error…`, feed: running → waiting or
 *   failed); upstream never managed that part (§5.1).
 */
import { methodDefaults } from '../../shared/constants.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { JobContext } from './context.ts';
import { failRun } from './job-run.ts';
import { serverFailures } from './log-messages.ts';

export async function startJobServer(ctx: JobContext, _params: MethodParams<'startJobServer'>): Promise<true> {
  ctx.state.start();
  return true;
}

export async function shutdownJobServer(ctx: JobContext, [options = {}]: MethodParams<'shutdownJobServer'>): Promise<true> {
  ctx.state.shutdown(options.timeout ?? methodDefaults.shutdownTimeoutMs, () => {
    failRunningJobs(ctx).catch((error: unknown) => ctx.logger.error({ err: error }, 'failing running jobs at shutdown failed'));
  });
  return true;
}

/** Fails every running job, non-fatally, with the shutdown reason. Returns how many. */
export async function failRunningJobs(ctx: JobContext): Promise<number> {
  return ctx.store.transaction(async (tx) => {
    let failed = 0;
    for (const job of await tx.find({ statuses: ['running'] })) {
      if (await failRun(ctx, tx, job, { value: serverFailures.shutdown }, false)) failed += 1;
    }
    if (failed > 0) ctx.logger.warn({ failed }, 'failed running jobs at job server shutdown');
    return failed;
  });
}
