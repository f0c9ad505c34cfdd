/**
 * Why a job store could not be opened: a `DATABASE_URL` in an unknown form, a backend that is
 * not available, or a database file that cannot be used. The message is written for the person
 * starting the server and is printed as it is, so it says what was wrong and what to do.
 */
export class StoreOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}
