/**
 * meteor-job's calling convention next to promises: every call takes an optional node-style
 * callback last; without one it answers a promise.
 */

/** A node-style callback, as meteor-job calls them: `(error)` or `(null, result)`. */
export type NodeCallback<T> = (error: Error | null, result?: T) => void;

/**
 * Settles `cb` from `promise` when given (outside the promise chain, so an exception in the
 * callback surfaces as in any node callback rather than as a rejection); otherwise answers
 * the promise. A promise nobody awaits never becomes an unhandled rejection: meteor-job too
 * drops the result of a call made without a callback.
 */
export function deliver<T>(promise: Promise<T>, cb: NodeCallback<T> | undefined): Promise<T> | undefined {
  if (cb === undefined) {
    promise.catch(() => undefined);
    return promise;
  }
  promise.then(
    (result) => process.nextTick(cb, null, result),
    (error: unknown) => process.nextTick(cb, error instanceof Error ? error : new Error(String(error))),
  );
  return undefined;
}

/** Sorts out `(options?, cb?)`: a function in the options slot is the callback. */
export function optionsAndCallback<O extends object, T>(
  options: O | NodeCallback<T> | undefined,
  cb: NodeCallback<T> | undefined,
): [Partial<O>, NodeCallback<T> | undefined] {
  if (typeof options === 'function') return [{}, options];
  if (cb !== undefined && typeof cb !== 'function') throw new TypeError('The callback must be a function');
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('Options must be an object');
  }
  return [{ ...(options ?? {}) }, cb];
}

/** Runs `start` as the body of a call: a synchronous throw becomes a rejection (or a callback error). */
export function attempt<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
