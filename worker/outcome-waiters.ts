/**
 * The outcomes a connection awaits, for one collection root (docs/PROTOCOL.md §7.12): of the
 * chains it submitted (`submit()`) and of the jobs it waits for (`job.result()`,
 * `Job.waitFor()`). One `outcomes` call waits on the server while anything is awaited, however
 * many; after a reconnect everything is watched again, so an outcome that settled while the
 * connection was down still arrives.
 */
import type { ChainReport } from '../shared/chains.ts';
import { cumulusLimits } from '../shared/methods.ts';
import type { JobReport, OutcomeBatch } from '../shared/outcomes.ts';
import { warn } from './connection-options.ts';
import type { CumulusConnection } from './connection.ts';
import { ConnectionClosedError, DisconnectedError } from './errors.ts';
import { chunks } from './job-admin.ts';
import { callJobMethod } from './job-methods.ts';

type Kind = keyof OutcomeBatch;
type Report<K extends Kind> = OutcomeBatch[K][number];

interface Awaited<R> {
  resolve(report: R): void;
  reject(error: Error): void;
  /** The server knows it (a chain's submission was answered; a job always): it can be watched. */
  watchable: boolean;
}

/** A job waiting to be watched: told whether it exists. */
interface Watching {
  resolve(exists: boolean): void;
  reject(error: Error): void;
}

/** How long one `outcomes` call waits on the server before the client asks again. */
const pollWaitMs = 30_000;

function isDrop(error: unknown): boolean {
  return error instanceof DisconnectedError && !(error instanceof ConnectionClosedError);
}

export class OutcomeWaiters {
  readonly #root: { root: string; connection: CumulusConnection };
  readonly #awaited: { chains: Map<string, Awaited<ChainReport>>; jobs: Map<string, Awaited<JobReport>> } = { chains: new Map(), jobs: new Map() };
  /** The one wait per job id, shared by everyone awaiting it on this connection. */
  readonly #jobWaits = new Map<string, Promise<JobReport | undefined>>();
  /** Jobs to watch in the next `jobWatch` call. */
  #toWatch: Map<string, Watching> | undefined;
  #polling = false;

  constructor(connection: CumulusConnection, root: string) {
    this.#root = { root, connection };
    connection.onReconnect(() => this.#rewatch());
  }

  /**
   * A chain's report, once the server delivers it. Register before submitting (with
   * `watch: true`), then call `chainSaved` once the submission is answered.
   */
  expectChain(chainId: string): Promise<ChainReport> {
    return new Promise((resolve, reject) => this.#awaited.chains.set(chainId, { resolve, reject, watchable: false }));
  }

  /** The chain is on the server and watched by this connection: wait for its outcome. */
  chainSaved(chainId: string): void {
    const awaited = this.#awaited.chains.get(chainId);
    if (awaited === undefined) return;
    awaited.watchable = true;
    this.#poll();
  }

  /**
   * A job's report: at once if it has one, else once it completes, fails, is cancelled or
   * removed. Resolves with undefined when there is no such job. Waits for the same job share one watch.
   */
  awaitJob(jobId: string): Promise<JobReport | undefined> {
    let waiting = this.#jobWaits.get(jobId);
    if (waiting === undefined) {
      waiting = this.#watchJob(jobId);
      this.#jobWaits.set(jobId, waiting);
      const done = () => this.#jobWaits.delete(jobId);
      waiting.then(done, done);
    }
    return waiting;
  }

  async #watchJob(jobId: string): Promise<JobReport | undefined> {
    const awaited = new Promise<JobReport>((resolve, reject) => this.#awaited.jobs.set(jobId, { resolve, reject, watchable: true }));
    try {
      if (!(await this.#watchSoon(jobId))) {
        this.#awaited.jobs.delete(jobId);
        return undefined;
      }
    } catch (error) {
      // Dropped: the reconnect watches it again.
      if (!isDrop(error)) {
        this.#awaited.jobs.delete(jobId);
        throw error;
      }
    }
    this.#poll();
    return awaited;
  }

  /**
   * Watches the job with the others asked for in the same turn: ten thousand waits are ten
   * `jobWatch` calls, not ten thousand. Resolves with whether the job exists (a known outcome
   * is delivered on the way).
   */
  #watchSoon(jobId: string): Promise<boolean> {
    if (this.#toWatch === undefined) {
      this.#toWatch = new Map();
      setImmediate(() => void this.#watchBatch());
    }
    const batch = this.#toWatch;
    return new Promise((resolve, reject) => batch.set(jobId, { resolve, reject }));
  }

  async #watchBatch(): Promise<void> {
    const batch = this.#toWatch ?? new Map<string, Watching>();
    this.#toWatch = undefined;
    for (const part of chunks([...batch.keys()], cumulusLimits.maxBatch)) {
      try {
        const { outcomes, missing } = await this.#watch('jobs', part);
        this.#deliver('jobs', outcomes);
        const gone = new Set(missing);
        for (const id of part) batch.get(id)?.resolve(!gone.has(id));
      } catch (error) {
        for (const id of part) batch.get(id)?.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  /** Stops awaiting a chain (timed out, or its submission failed); a later outcome is ignored. */
  forgetChain(chainId: string): void {
    this.#awaited.chains.delete(chainId);
  }

  #watch<K extends Kind>(kind: K, ids: string[]): Promise<{ outcomes: Report<K>[]; missing: string[] }> {
    const answer = kind === 'chains' ? callJobMethod(this.#root, 'chainWatch', [ids]) : callJobMethod(this.#root, 'jobWatch', [ids]);
    return answer as Promise<{ outcomes: Report<K>[]; missing: string[] }>;
  }

  #poll(): void {
    if (this.#polling || !this.#anyWatchable()) return;
    this.#polling = true;
    this.#loop().then(
      () => {
        this.#polling = false;
        // Something became watchable meanwhile, after the loop saw none.
        if (this.#anyWatchable()) this.#poll();
      },
      (error: unknown) => {
        this.#polling = false;
        this.#failAll(error);
      },
    );
  }

  async #loop(): Promise<void> {
    while (this.#anyWatchable()) {
      let batch: OutcomeBatch;
      try {
        batch = await callJobMethod(this.#root, 'outcomes', [{ waitMs: pollWaitMs }]);
      } catch (error) {
        // A dropped connection: the reconnect watches again and polls again.
        if (isDrop(error)) return;
        throw error;
      }
      this.#deliver('chains', batch.chains);
      this.#deliver('jobs', batch.jobs);
    }
  }

  /** After a reconnect: the new connection watches everything awaited, and known outcomes come at once. */
  #rewatch(): void {
    const rewatching = (async () => {
      for (const kind of ['chains', 'jobs'] as const) {
        const ids = [...this.#awaited[kind]].filter(([, awaited]) => awaited.watchable).map(([id]) => id);
        for (const part of chunks(ids, cumulusLimits.maxBatch)) {
          const { outcomes, missing } = await this.#watch(kind, part);
          this.#deliver(kind, outcomes);
          for (const id of missing) this.#settle(kind, id, (awaited) => awaited.reject(new Error(`${kind === 'chains' ? 'Chain' : 'Job'} ${id} no longer exists on the server`)));
        }
      }
    })();
    rewatching.then(
      () => this.#poll(),
      (error: unknown) => {
        // Dropped again: the next reconnect tries again.
        if (!isDrop(error)) this.#failAll(error);
      },
    );
  }

  #deliver<K extends Kind>(kind: K, reports: readonly Report<K>[]): void {
    for (const report of reports) this.#settle(kind, report.id, (awaited) => (awaited as Awaited<Report<K>>).resolve(report));
  }

  #settle<K extends Kind>(kind: K, id: string, how: (awaited: Awaited<Report<K>>) => void): void {
    const awaited = this.#awaited[kind].get(id) as Awaited<Report<K>> | undefined;
    if (awaited === undefined) return;
    this.#awaited[kind].delete(id);
    how(awaited);
  }

  #anyWatchable(): boolean {
    for (const awaited of this.#awaited.chains.values()) if (awaited.watchable) return true;
    return this.#awaited.jobs.size > 0;
  }

  /** The connection closed, or the server refused the call: nobody can get an outcome now. */
  #failAll(error: unknown): void {
    const reason = error instanceof Error ? error : new Error(String(error));
    if (!(error instanceof ConnectionClosedError)) warn(new Error(`Awaiting outcomes failed: ${reason.message}`, { cause: reason }));
    for (const kind of ['chains', 'jobs'] as const) {
      for (const [id, awaited] of [...this.#awaited[kind]]) {
        if (!awaited.watchable) continue;
        this.#awaited[kind].delete(id);
        awaited.reject(reason);
      }
    }
  }
}

const byConnection = new WeakMap<CumulusConnection, Map<string, OutcomeWaiters>>();

/** The outcome waiters of a connection and root, made on first use. */
export function outcomeWaitersOf(connection: CumulusConnection, root: string): OutcomeWaiters {
  let roots = byConnection.get(connection);
  if (roots === undefined) {
    roots = new Map();
    byConnection.set(connection, roots);
  }
  let waiters = roots.get(root);
  if (waiters === undefined) {
    waiters = new OutcomeWaiters(connection, root);
    roots.set(root, waiters);
  }
  return waiters;
}
