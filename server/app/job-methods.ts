/**
 * Binds the job-collection operations to DDP methods `<root>_<name>`, with jobCollection's
 * pipeline: permission check (403), then argument check (400), then the operation.
 */
import { notAuthorized } from '../../shared/errors.ts';
import { jobMethodNames, methodName, parseParams, type JobMethodName } from '../../shared/methods.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { DdpServer } from '../ddp/index.ts';
import { jobOperations, type Caller, type JobContext, type JobOperation } from '../jobs/index.ts';

export interface JobMethodHooks {
  /** Called after `startJobServer` so the scheduler promotes what became due while stopped. */
  onStarted(): void;
}

export function registerJobMethods(ddp: DdpServer, ctx: JobContext, auth: Authenticator, hooks: JobMethodHooks): void {
  for (const name of jobMethodNames) {
    ddp.method(methodName(ctx.root, name), async (invocation, params) => {
      if (!auth.mayCall(invocation.userId, name)) throw notAuthorized();
      const caller = { connectionId: invocation.connection.id, unblock: () => invocation.unblock() };
      const result = await invoke(ctx, name, params, caller);
      if (name === 'startJobServer' || name === 'startJobs') hooks.onStarted();
      return result;
    });
  }
}

function invoke<N extends JobMethodName>(ctx: JobContext, name: N, params: unknown[], caller: Caller): Promise<unknown> {
  const operation = jobOperations[name] as JobOperation<N>;
  return operation(ctx, parseParams(name, params), caller);
}
