/**
 * The database could not be reached, or kept refusing a transaction for reasons that are not
 * the call's own (conflicts, a lost primary). Answered as a Meteor-style 503, so a client may
 * retry; the server keeps its sockets and workers meanwhile.
 */
import { CumulusError } from '../../shared/errors.ts';

export class StoreUnavailableError extends CumulusError {
  constructor(store: string, cause: unknown, options: { outcomeUnknown?: boolean } = {}) {
    const saved = options.outcomeUnknown === true
      ? 'the database did not confirm whether this call was saved'
      : 'nothing of this call was saved';
    const why = cause instanceof Error ? cause.message : String(cause);
    super(503, 'Job store unavailable', `${store}: ${why}; ${saved}. Try again.`);
    this.name = 'StoreUnavailableError';
    this.cause = cause;
  }
}
