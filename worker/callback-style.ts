/**
 * meteor-job's calling convention next to promises: every call takes an optional node-style
 * callback last; without one it answers a promise. {@link WithCallback} types such a call once,
 * instead of an overload per form, and {@link callStyle} makes one of a promise function.
 */

/** A node-style callback, as meteor-job calls them: `(error)` or `(null, result)`. */
export type NodeCallback<T> = (error: Error | null, result?: T) => void;

/**
 * A call in meteor-job's convention after its leading arguments `Args`: `f(...args, options?)`
 * answers a promise of `T`; `f(...args, cb)` and `f(...args, options, cb)` call `cb` instead
 * and answer nothing.
 */
export interface WithCallback<Args extends unknown[], Options, T> {
  // The callback forms first: a function must never be taken for the options.
  (...args: [...Args, cb: NodeCallback<T>]): void;
  (...args: [...Args, options: Options, cb: NodeCallback<T>]): void;
  (...args: [...Args, options?: Options]): Promise<T>;
}

/**
 * An answer type computed from a type argument, for {@link GenericWithCallback}: an interface
 * extending this one declares `type` in terms of `this['arg']`.
 */
export interface AnswerType {
  readonly arg: unknown;
  readonly type: unknown;
}

/** The answer `F` gives for the type argument `X`. */
export type AnswerFor<F extends AnswerType, X> = (F & { readonly arg: X })['type'];

/** The answer is the type argument itself, as in `job.result<R>()`. */
export interface ItselfAnswer extends AnswerType {
  readonly type: this['arg'];
}

/**
 * {@link WithCallback} for a call whose answer depends on a type argument the caller may give,
 * as in `Job.getJob<Data>(root, id)`: `X` (a `Bound`, by default `Bound` itself) gives the answer
 * `AnswerFor<F, X>`.
 */
export interface GenericWithCallback<Args extends unknown[], Options, F extends AnswerType, Bound = unknown> {
  <X extends Bound = Bound>(...args: [...Args, cb: NodeCallback<AnswerFor<F, X>>]): void;
  <X extends Bound = Bound>(...args: [...Args, options: Options, cb: NodeCallback<AnswerFor<F, X>>]): void;
  <X extends Bound = Bound>(...args: [...Args, options?: Options]): Promise<AnswerFor<F, X>>;
}

/** meteor-job's `done(cb)` and `fail(cb)`: the callback alone, in the place of the first argument. */
export type CallbackAlone<T> = (cb: NodeCallback<T>) => void;

/**
 * The promise function {@link callStyle} makes a call of: it gets the leading arguments and
 * the options (`{}` when left out). A method's body declares its `this`.
 */
export type CallBody<W> =
  W extends WithCallback<infer Args, infer Options, infer T> ? (this: never, ...args: [...Args, Partial<Options>]) => Promise<T>
  : W extends GenericWithCallback<infer Args, infer Options, infer F, infer Bound> ? (this: never, ...args: [...Args, Partial<Options>]) => Promise<AnswerFor<F, Bound>>
  : never;

/** How many arguments come before the options (a range when some are optional). */
export type LeadingCount<W> =
  W extends WithCallback<infer Args, infer _O, infer _T> ? Args['length']
  : W extends GenericWithCallback<infer Args, infer _O, infer _F, infer _B> ? Args['length']
  : never;

/**
 * Makes a call of type `W` (taken from where it is assigned) out of `body`: the arguments after
 * the `leading` ones are sorted out into options and callback, and the answer is delivered.
 * Bad options or a callback that is no function throw at once, as meteor-job does.
 */
export function callStyle<W>(leading: LeadingCount<W>, body: CallBody<W>): W {
  const run = body as (this: unknown, ...args: unknown[]) => Promise<unknown>;
  const count = leading as number;
  return function (this: unknown, ...args: unknown[]): Promise<unknown> | undefined {
    const [given, callback] = optionsAndCallback<object, unknown>(args[count] as object | undefined, args[count + 1] as NodeCallback<unknown> | undefined);
    const first = Array.from({ length: count }, (_, i) => args[i]);
    return deliver(attempt(() => run.call(this, ...first, given)), callback);
  } as W;
}

/** Lets `call` also take its callback alone (`done(cb)`, `fail(cb)`). */
export function withCallbackAlone<First, Options, T>(
  call: WithCallback<[first?: First], Options, T>,
): CallbackAlone<T> & WithCallback<[first?: First], Options, T> {
  return function (this: unknown, ...args: unknown[]): Promise<T> | void {
    const [first] = args;
    const forward = call as (this: unknown, ...forwarded: unknown[]) => Promise<T> | void;
    return typeof first === 'function' ? forward.call(this, undefined, {}, first) : forward.apply(this, args);
  } as CallbackAlone<T> & WithCallback<[first?: First], Options, T>;
}

/**
 * Puts `methods` on a class's prototype as a class body would: not enumerable. For methods
 * typed as properties (a `declare`d {@link WithCallback}), which a class body cannot define.
 */
export function defineMethods<P extends object>(prototype: P, methods: { [K in keyof P]?: P[K] }): void {
  for (const [name, method] of Object.entries(methods)) {
    Object.defineProperty(prototype, name, { value: method, writable: true, configurable: true, enumerable: false });
  }
}

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
