/**
 * Binds the job-collection operations to DDP methods `<root>_<name>`, with jobCollection's
 * pipeline (docs/PROTOCOL.md §2.1): permission check (403), then argument check (400), then
 * the operation.
 */
import { notAuthorized } from '../../shared/errors.ts';
import { jobMethodNames, methodName, parseParams, type JobMethodName } from '../../shared/methods.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { DdpServer } from '../ddp/index.ts';
import { jobOperations, type Caller, type JobContext, type JobOperation } from '../jobs/index.ts';

export function registerJobMethods(ddp: DdpServer, ctx: JobContext, auth: Authenticator): void {
  for (const name of jobMethodNames) {
    ddp.method(methodName(ctx.root, name), (invocation, params) => {
      if (!auth.mayCall(invocation.userId, name, params)) throw notAuthorized();
      const caller = { connectionId: invocation.connection.id, unblock: () => invocation.unblock() };
      return invoke(ctx, name, params, caller);
    });
  }
}

function invoke<N extends JobMethodName>(ctx: JobContext, name: N, params: unknown[], caller: Caller): Promise<unknown> {
  const operation = jobOperations[name] as JobOperation<N>;
  return operation(ctx, parseParams(name, params), caller);
}
