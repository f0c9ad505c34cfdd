/**
 * Running one `method` message (docs/PROTOCOL.md §1.6, §1.7): the handler, then exactly one `result`,
 * then, once the write fence has passed, exactly one `updated`.
 */
import { CumulusError, methodNotFound, toClientError, internalError } from '../../shared/errors.ts';
import type { Logger } from '../logger.ts';
import type { Unblock } from './message-queue.ts';
import type { ConnectionInfo, MethodHandler, MethodInvocation } from './types.ts';
import { stringify, type MethodMessage } from './wire.ts';

/** What running a method needs from its session. */
export interface MethodContext {
  readonly connection: ConnectionInfo;
  readonly methods: ReadonlyMap<string, MethodHandler>;
  readonly logger: Logger;
  /** Logs the connection in or out and starts re-running its subscriptions. */
  setUserId(userId: string | null): void;
  /** Settles once every subscription re-run started by setUserId has sent its diff. */
  userChangeSettled(): Promise<void>;
  sendText(text: string): void;
  /** Sends `updated` for this id after the fence, keeping `updated`s in method order. */
  sendUpdatedAfterFence(id: string): Promise<void>;
}

class Invocation implements MethodInvocation {
  #unblocked = false;

  readonly #ctx: MethodContext;
  readonly #release: Unblock;

  constructor(
    readonly connection: ConnectionInfo,
    public userId: string | null,
    ctx: MethodContext,
    release: Unblock,
  ) {
    this.#ctx = ctx;
    this.#release = release;
  }

  setUserId(userId: string | null): void {
    if (userId !== null && typeof userId !== 'string') {
      throw new TypeError(`setUserId must be called on string or null, not ${typeof userId}`);
    }
    // After unblock() later messages may run under the old user; Meteor refuses this too.
    if (this.#unblocked) throw new Error("Can't call setUserId in a method after calling unblock");
    this.userId = userId;
    this.#ctx.setUserId(userId);
  }

  unblock(): void {
    this.#unblocked = true;
    this.#release();
  }
}

function encodeResult(id: string, outcome: { value: unknown } | { error: unknown }, logger: Logger, method: string): string {
  if ('value' in outcome) {
    try {
      return stringify(outcome.value === undefined ? { msg: 'result', id } : { msg: 'result', id, result: outcome.value });
    } catch (error) {
      logger.error({ err: error, method }, 'method result cannot be sent as EJSON');
      return stringify({ msg: 'result', id, error: internalError().toWire() });
    }
  }
  if (!(outcome.error instanceof CumulusError)) {
    logger.error({ err: outcome.error, method }, 'method failed');
  }
  return stringify({ msg: 'result', id, error: toClientError(outcome.error).toWire() });
}

/**
 * Runs a well-formed method message. The queue is released as soon as the `result` is sent, so
 * a slow fence never delays the connection's next message.
 */
export async function runMethod(ctx: MethodContext, message: MethodMessage, unblock: Unblock): Promise<void> {
  const handler = ctx.methods.get(message.method);
  let outcome: { value: unknown } | { error: unknown };
  if (handler === undefined) {
    outcome = { error: methodNotFound(message.method) };
  } else {
    const invocation = new Invocation(ctx.connection, ctx.connection.userId, ctx, unblock);
    try {
      outcome = { value: await handler(invocation, message.params) };
    } catch (error) {
      outcome = { error };
    }
    // The data of a login's re-run subscriptions goes out before its result.
    await ctx.userChangeSettled();
  }
  ctx.sendText(encodeResult(message.id, outcome, ctx.logger, message.method));
  unblock();
  await ctx.sendUpdatedAfterFence(message.id);
}
