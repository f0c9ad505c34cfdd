/**
 * Method calls sent and not answered yet, by DDP message id. This bookkeeping is ours rather
 * than simpleddp's so that a disconnect can reject every one of them (simpleddp would leave
 * them hanging forever).
 */
import { CumulusError, type ErrorCode } from '../shared/errors.ts';

interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** A DDP `result` message: `error` is a serialized Meteor.Error when the call failed. */
export interface ResultMessage {
  id?: unknown;
  result?: unknown;
  error?: unknown;
}

export class PendingCalls {
  readonly #calls = new Map<string, Pending>();

  add(id: string, method: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.#calls.set(id, { method, resolve, reject }));
  }

  /** Settles the call a `result` message answers; results for unknown ids are ignored. */
  settle(message: ResultMessage): void {
    if (typeof message.id !== 'string') return;
    const call = this.#calls.get(message.id);
    if (call === undefined) return;
    this.#calls.delete(message.id);
    if (message.error !== undefined && message.error !== null) call.reject(toError(message.error));
    else call.resolve(message.result);
  }

  /** Rejects every call in flight, each with the error `reason` makes for its method. */
  rejectAll(reason: (method: string) => Error): void {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const call of calls) call.reject(reason(call.method));
  }

  get size(): number {
    return this.#calls.size;
  }
}

/** A serialized Meteor.Error as the project's error class, so callers can test `.error`. */
export function toError(wire: unknown): CumulusError {
  if (typeof wire !== 'object' || wire === null) return new CumulusError(500, String(wire));
  const { error, reason, details } = wire as { error?: unknown; reason?: unknown; details?: unknown };
  const code: ErrorCode = typeof error === 'number' || typeof error === 'string' ? error : 500;
  return new CumulusError(code, typeof reason === 'string' ? reason : undefined, typeof details === 'string' ? details : undefined);
}
