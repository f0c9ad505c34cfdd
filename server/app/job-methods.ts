/**
 * Binds the job-collection operations to DDP methods `<root>_<name>`, with jobCollection's
 * pipeline (docs/PROTOCOL.md §2.1): permission check (403), then argument check (400), then
 * the operation.
 *
 * A worker's reports on its jobs (done, fail, log, progress) release the connection's message
 * queue as soon as their transaction is queued (docs/PROTOCOL.md §1.5): they only need to apply
 * in order per job, which their place in the store's write queue keeps, so a worker's many
 * completions join one durable commit instead of each waiting for the previous one's.
 */
import { notAuthorized } from '../../shared/errors.ts';
import { jobMethodNames, methodName, parseParams, type JobMethodName } from '../../shared/methods.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { DdpServer } from '../ddp/index.ts';
import { jobOperations, type Caller, type JobContext, type JobOperation } from '../jobs/index.ts';

/** Operations that queue their transaction before their first await, and may run unblocked. */
const unblockedOnceQueued: ReadonlySet<JobMethodName> = new Set(['jobDone', 'jobDoneMany', 'jobFail', 'jobLog', 'jobProgress']);

export function registerJobMethods(ddp: DdpServer, ctx: JobContext, auth: Authenticator): void {
  for (const name of jobMethodNames) {
    ddp.method(methodName(ctx.root, name), (invocation, params) => {
      if (!auth.mayCall(invocation.userId, name, params)) throw notAuthorized();
      const caller = { connectionId: invocation.connection.id, unblock: () => invocation.unblock() };
      const answer = invoke(ctx, name, params, caller);
      if (unblockedOnceQueued.has(name)) caller.unblock();
      return answer;
    });
  }
}

function invoke<N extends JobMethodName>(ctx: JobContext, name: N, params: unknown[], caller: Caller): Promise<unknown> {
  const operation = jobOperations[name] as JobOperation<N>;
  return operation(ctx, parseParams(name, params), caller);
}
