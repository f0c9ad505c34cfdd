/**
 * Submit-and-await (docs/PROTOCOL.md §7.9): Atmosphere's RPC and chains, and the Redis
 * JobQueue's `run(type, params)`, as promises (or node-style callbacks) over the job collection.
 *
 * A submission is one `chainSubmit` call with a client-chosen chain id, so it is retried after
 * a lost connection without being saved twice. Its outcome comes through the connection's one
 * waiting `outcomes` call (outcome-waiters.ts). Called from inside a `serve()` handler, it
 * submits on behalf of the running job and lends that job's slot while it waits.
 */
import { chainLinks, resultValue, type ChainLinkSpec, type ChainReport } from '../shared/chains.ts';
import { defaultRoot, type RetryBackoff } from '../shared/constants.ts';
import { matchFailed } from '../shared/errors.ts';
import { randomId } from '../shared/random-id.ts';
import { outcomeWaitersOf } from './outcome-waiters.ts';
import type { CumulusConnection } from './connection.ts';
import { RpcJobError, RpcTimeoutError } from './errors.ts';
import { handlerScope } from './handler-scope.ts';
import { callJobMethod } from './job-methods.ts';
import { connectionOf } from './job-root.ts';
import { checkSerializable } from './serializable.ts';
import { untilAnswered } from './until-answered.ts';

/** A job as Atmosphere describes one; a chain is an array of them. */
export interface RpcJob<Data extends Record<string, unknown> = Record<string, unknown>> {
  /** The queue (job type) it goes to. */
  type: string;
  /** What the work is about within its type, e.g. `user1`; only the first link of a chain has one. */
  name?: string;
  data?: Data;
  /** Seconds to wait for the outcome; only the first link of a chain has one. The work goes on after it. */
  timeout?: number;
  /** In a chain: the outcome is this link's result, and the chain goes on. At most one link. */
  callback?: boolean;
  /** Cumulus: lower runs first (meteor-job's priorities). */
  priority?: number;
  /** Cumulus: attempts after the first before the link fails for good. Default 0. */
  retries?: number;
  /** Cumulus: ms between attempts. */
  retryWait?: number;
  retryBackoff?: RetryBackoff;
}

export interface SubmitOptions {
  /** The collection root; default `queue` (or, inside a handler, the handler's). */
  root?: string;
  /** Resolve once the work is saved, with nothing: no outcome is awaited, no timer runs. */
  fireAndForget?: boolean;
  /** The connection to submit on; default the root's (see `connect()`). */
  connection?: CumulusConnection;
}

/** Atmosphere's callback: `(error, data)`, once. */
export type RpcCallback<R> = (error: Error | null, data?: R) => void;

/**
 * Submits a job or a chain and resolves with the outcome: the result of the link marked
 * `callback: true`, else of the last link (a result `{value: v}` resolves with `v`). Rejects
 * with `RpcJobError` when a link fails for good or is cancelled (later links never run), and
 * with `RpcTimeoutError` when the first link's `timeout` (seconds) passes first — the work goes
 * on. `submit(work, callback)` calls back node-style instead; `submit(work, undefined)` (an
 * explicit undefined, Atmosphere's fire-and-forget) awaits nothing and resolves once saved.
 *
 * @example
 * const greeting = await submit<string>({ type: 'greet', data: { to: 'world' }, timeout: 30 });
 * await submit([{ type: 'first', data: { a: 1 } }, { type: 'second' }]); // second gets {first: <result>}
 */
export function submit(work: RpcJob | readonly RpcJob[], fireAndForget: undefined): Promise<void>;
export function submit<R = unknown>(work: RpcJob | readonly RpcJob[], options?: SubmitOptions): Promise<R>;
export function submit<R = unknown>(work: RpcJob | readonly RpcJob[], callback: RpcCallback<R>): void;
export function submit(work: RpcJob | readonly RpcJob[], ...rest: unknown[]): Promise<unknown> | void {
  const second = rest[0] as SubmitOptions | RpcCallback<unknown> | undefined;
  if (typeof second === 'function') {
    const callback = second;
    submitWork(work, {}).then(
      (data) => process.nextTick(callback, null, data),
      (error: unknown) => process.nextTick(callback, error instanceof Error ? error : new Error(String(error))),
    );
    return undefined;
  }
  // An explicitly passed undefined is Atmosphere's fire-and-forget.
  const options = rest.length === 1 && second === undefined ? { fireAndForget: true } : (second ?? {});
  return submitWork(work, options);
}

/**
 * The Redis JobQueue's `jobs.run(type, params)`: submits one job of `type` with `params` as its
 * data and resolves with its result, as `submit({type, data: params})` does.
 */
export function run<R = unknown>(type: string, params: Record<string, unknown> = {}, options: SubmitOptions = {}): Promise<R> {
  return submit<R>({ type, data: params }, options);
}

async function submitWork(work: RpcJob | readonly RpcJob[], options: SubmitOptions): Promise<unknown> {
  const links = checkedLinks(work);
  // Inside a running handler, the work is the handler's job's child (see serve.ts).
  const scope = handlerScope.getStore()?.running === true ? handlerScope.getStore() : undefined;
  const root = options.root ?? scope?.root ?? defaultRoot;
  const connection = options.connection ?? (scope?.root === root ? scope.connection : undefined) ?? connectionOf(root);
  const handle = { root, connection };
  // A job can be the parent only of chains in its own collection, submitted on its connection.
  const parent = scope?.root === root && scope.connection === connection ? scope.parent : undefined;
  const id = randomId();
  const chainOptions = { id, ...(parent === undefined ? {} : { parent }) };
  if (options.fireAndForget === true) {
    await untilAnswered(handle, () => callJobMethod(handle, 'chainSubmit', [links, chainOptions]));
    return undefined;
  }
  const outcomes = outcomeWaitersOf(connection, root);
  const outcome = outcomes.expectChain(id);
  const saved = untilAnswered(handle, () => callJobMethod(handle, 'chainSubmit', [links, { ...chainOptions, watch: true }]));
  const settled = (async () => {
    try {
      await saved;
    } catch (error) {
      outcomes.forgetChain(id);
      throw error;
    }
    outcomes.chainSaved(id);
    return outcome;
  })();
  const awaited = withTimeout(settled, links[0]?.timeout, id, () => outcomes.forgetChain(id));
  const report = await (scope === undefined ? awaited : scope.lendWhile(awaited));
  return valueOf(report);
}

/** The links as the server takes them, checked here so a bad chain is refused before it is sent. */
function checkedLinks(work: RpcJob | readonly RpcJob[]): ChainLinkSpec[] {
  const links = Array.isArray(work) ? work : [work];
  links.forEach((link, index) => checkSerializable((link as RpcJob | undefined)?.data, `links.${index}.data`));
  const parsed = chainLinks.safeParse(links);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw matchFailed(`links${issue === undefined || issue.path.length === 0 ? '' : `.${issue.path.map(String).join('.')}`}: ${issue?.message ?? 'invalid'}`);
}

/** `settled`, or a timeout after `seconds` (the chain goes on; `giveUp` stops listening for it). */
async function withTimeout(settled: Promise<ChainReport>, seconds: number | undefined, chainId: string, giveUp: () => void): Promise<ChainReport> {
  if (seconds === undefined) return settled;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      giveUp();
      reject(new RpcTimeoutError(chainId, seconds));
    }, seconds * 1000);
  });
  // Once timed out, a late failure of the submission is nobody's business.
  settled.catch(() => undefined);
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function valueOf(report: ChainReport): unknown {
  const { outcome } = report;
  if (outcome.ok) return resultValue(outcome.result);
  throw new RpcJobError(report.id, outcome);
}
