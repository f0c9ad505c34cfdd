/**
 * The outcomes of the chains a connection submitted and awaits (docs/PROTOCOL.md §7.9), for
 * one collection root: one `chainOutcomes` call waits on the server while anything is awaited,
 * whatever the number of chains, and after a reconnect the chains are watched again, so an
 * outcome that settled while the connection was down still arrives.
 */
import type { ChainReport } from '../shared/chains.ts';
import { cumulusLimits } from '../shared/methods.ts';
import { warn } from './connection-options.ts';
import type { CumulusConnection } from './connection.ts';
import { ConnectionClosedError, DisconnectedError } from './errors.ts';
import { chunks } from './job-admin.ts';
import { callJobMethod } from './job-methods.ts';

interface Awaited {
  resolve(report: ChainReport): void;
  reject(error: Error): void;
  /** The server has the chain (its chainSubmit was answered), so it can be watched again. */
  saved: boolean;
}

/** How long one `chainOutcomes` call waits on the server before the client asks again. */
const pollWaitMs = 30_000;

export class ChainOutcomes {
  readonly #root: { root: string; connection: CumulusConnection };
  readonly #awaited = new Map<string, Awaited>();
  #polling = false;

  constructor(connection: CumulusConnection, root: string) {
    this.#root = { root, connection };
    connection.onReconnect(() => this.#rewatch());
  }

  /**
   * Resolves with the chain's report once the server delivers it. Register before submitting
   * (with `watch: true`), then call `saved` once the submission is answered.
   */
  expect(chainId: string): Promise<ChainReport> {
    return new Promise((resolve, reject) => this.#awaited.set(chainId, { resolve, reject, saved: false }));
  }

  /** The chain is on the server and watched by this connection: wait for its outcome. */
  saved(chainId: string): void {
    const awaited = this.#awaited.get(chainId);
    if (awaited === undefined) return;
    awaited.saved = true;
    this.#poll();
  }

  /** Stops awaiting the chain (timed out, or its submission failed); a later outcome is ignored. */
  forget(chainId: string): void {
    this.#awaited.delete(chainId);
  }

  #poll(): void {
    if (this.#polling || !this.#anySaved()) return;
    this.#polling = true;
    this.#loop().then(
      () => {
        this.#polling = false;
        // Something saved meanwhile, after the loop saw none.
        if (this.#anySaved()) this.#poll();
      },
      (error: unknown) => {
        this.#polling = false;
        this.#failAll(error);
      },
    );
  }

  async #loop(): Promise<void> {
    while (this.#anySaved()) {
      let reports: ChainReport[];
      try {
        reports = await callJobMethod(this.#root, 'chainOutcomes', [{ waitMs: pollWaitMs }]);
      } catch (error) {
        // A dropped connection: the reconnect watches again and polls again.
        if (error instanceof DisconnectedError && !(error instanceof ConnectionClosedError)) return;
        throw error;
      }
      this.#deliver(reports);
    }
  }

  /** After a reconnect: the new connection watches every saved chain, and known outcomes come at once. */
  #rewatch(): void {
    const ids = [...this.#awaited].filter(([, awaited]) => awaited.saved).map(([id]) => id);
    if (ids.length === 0) return;
    const watching = (async () => {
      for (const part of chunks(ids, cumulusLimits.maxBatch)) {
        const { outcomes, missing } = await callJobMethod(this.#root, 'chainWatch', [part]);
        this.#deliver(outcomes);
        for (const id of missing) this.#settle(id, (awaited) => awaited.reject(new Error(`Chain ${id} no longer exists on the server`)));
      }
    })();
    watching.then(
      () => this.#poll(),
      (error: unknown) => {
        // Dropped again: the next reconnect tries again.
        if (error instanceof DisconnectedError && !(error instanceof ConnectionClosedError)) return;
        this.#failAll(error);
      },
    );
  }

  #deliver(reports: readonly ChainReport[]): void {
    for (const report of reports) this.#settle(report.id, (awaited) => awaited.resolve(report));
  }

  #settle(chainId: string, how: (awaited: Awaited) => void): void {
    const awaited = this.#awaited.get(chainId);
    if (awaited === undefined) return;
    this.#awaited.delete(chainId);
    how(awaited);
  }

  #anySaved(): boolean {
    for (const awaited of this.#awaited.values()) if (awaited.saved) return true;
    return false;
  }

  /** The connection closed, or the server refused the call: nobody can get an outcome now. */
  #failAll(error: unknown): void {
    const reason = error instanceof Error ? error : new Error(String(error));
    if (!(error instanceof ConnectionClosedError)) warn(new Error(`Awaiting chain outcomes failed: ${reason.message}`, { cause: reason }));
    for (const [id, awaited] of [...this.#awaited]) {
      if (!awaited.saved) continue;
      this.#awaited.delete(id);
      awaited.reject(reason);
    }
  }
}

const byConnection = new WeakMap<CumulusConnection, Map<string, ChainOutcomes>>();

/** The outcome waiter of a connection and root, made on first use. */
export function chainOutcomesOf(connection: CumulusConnection, root: string): ChainOutcomes {
  let roots = byConnection.get(connection);
  if (roots === undefined) {
    roots = new Map();
    byConnection.set(connection, roots);
  }
  let outcomes = roots.get(root);
  if (outcomes === undefined) {
    outcomes = new ChainOutcomes(connection, root);
    roots.set(root, outcomes);
  }
  return outcomes;
}
