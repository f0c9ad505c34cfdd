/**
 * The one error class of Cumulus. It has the shape of a serialized `Meteor.Error`
 * so that every DDP client (meteor-job over `ddp`, simpleddp, the browser UI)
 * understands it without adaptation.
 */
export type ErrorCode = number | string;

/** What a `Meteor.Error` looks like on the wire, keys in Meteor's order. */
export interface WireError {
  isClientSafe: true;
  error: ErrorCode;
  reason?: string;
  details?: string;
  message: string;
  errorType: 'Meteor.Error';
}

export class CumulusError extends Error {
  readonly error: ErrorCode;
  readonly reason: string | undefined;
  readonly details: string | undefined;

  constructor(error: ErrorCode, reason?: string, details?: string) {
    super(reason === undefined ? `[${error}]` : `${reason} [${error}]`);
    this.name = 'CumulusError';
    this.error = error;
    this.reason = reason;
    this.details = details;
  }

  toWire(): WireError {
    // Keys in Meteor's order: isClientSafe, error, reason, details, message, errorType.
    return {
      isClientSafe: true,
      error: this.error,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(this.details === undefined ? {} : { details: this.details }),
      message: this.message,
      errorType: 'Meteor.Error',
    };
  }
}

/** A method argument failed its schema: Meteor's `check` answer, with the failing detail for humans. */
export function matchFailed(details?: string): CumulusError {
  return new CumulusError(400, 'Match failed', details);
}

export function methodNotFound(name: string): CumulusError {
  return new CumulusError(404, `Method '${name}' not found`);
}

export function subscriptionNotFound(name: string): CumulusError {
  return new CumulusError(404, `Subscription '${name}' not found`);
}

export function notAuthorized(): CumulusError {
  return new CumulusError(403, 'Method not authorized', 'Authenticated user is not permitted to invoke this method.');
}

export function internalError(): CumulusError {
  return new CumulusError(500, 'Internal server error');
}

/** Any thrown value as something safe to send: a CumulusError as is, anything else as a bare 500. */
export function toClientError(thrown: unknown): CumulusError {
  return thrown instanceof CumulusError ? thrown : internalError();
}
