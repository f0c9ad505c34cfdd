/**
 * Who awaits which chain's outcome, per DDP connection (docs/PROTOCOL.md §7.9). A connection
 * watches chain ids; when a watched chain's outcome is known, it goes to that connection's
 * mailbox, and a waiting `chainOutcomes` call of the connection is answered with the mailbox.
 * The cost of a commit is one map lookup per changed chain link, plus the waiters of the chains
 * that settled: nothing per subscription, nothing per idle watcher.
 *
 * The watch and the mailbox live in memory only: a connection that comes back after a drop
 * watches its chains again, and outcomes that settled meanwhile are read from the store.
 */
import type { ChainReport, ChainWatchAnswer } from '../../shared/chains.ts';
import { CumulusError } from '../../shared/errors.ts';
import type { JobFeed } from '../feed/job-feed.ts';
import type { Logger } from '../logger.ts';
import type { JobStore, StoredChain } from '../store/job-store.ts';

export interface ChainWatcherOptions {
  /** Chains one connection may watch at once; more is refused, so a client cannot grow the server without bound. */
  maxWatchedPerConnection: number;
}

export const chainWatcherDefaults: ChainWatcherOptions = {
  maxWatchedPerConnection: 100_000,
};

export interface ChainWatcherDeps {
  feed: JobFeed;
  store: JobStore;
  logger: Logger;
  options?: Partial<ChainWatcherOptions>;
}


interface Watcher {
  readonly watched: Set<string>;
  mailbox: ChainReport[];
  waiting: { answer: (reports: ChainReport[]) => void; timer: NodeJS.Timeout } | undefined;
}

export function chainReport(chain: StoredChain): ChainReport | undefined {
  return chain.outcome === undefined ? undefined : { id: chain._id, status: chain.status, outcome: chain.outcome };
}

export class ChainWatcher {
  readonly #deps: ChainWatcherDeps;
  readonly #options: ChainWatcherOptions;
  /** chain id → the connections watching it. */
  readonly #byChain = new Map<string, Set<string>>();
  readonly #byConnection = new Map<string, Watcher>();
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(deps: ChainWatcherDeps) {
    this.#deps = deps;
    this.#options = { ...chainWatcherDefaults, ...deps.options };
  }

  start(): void {
    this.#unsubscribe = this.#deps.feed.subscribe('chain watcher', (changes) => {
      const settling = new Set<string>();
      for (const change of changes) {
        if (change.chainId !== undefined && this.#byChain.has(change.chainId)) settling.add(change.chainId);
      }
      if (settling.size > 0) this.#deliverSettled([...settling]);
    });
  }

  /** Chains watched across connections, for tests and monitoring. */
  get size(): number {
    return this.#byChain.size;
  }

  /**
   * Watches the chains for `connectionId`. Answers the outcomes already known (those chains are
   * not watched further) and the ids that name no chain; the others are delivered later. With
   * `toMailbox`, known outcomes go to the mailbox instead, as later ones will.
   */
  async watch(connectionId: string, ids: readonly string[], options: { toMailbox?: boolean } = {}): Promise<ChainWatchAnswer> {
    if (this.#closed) return { outcomes: [], missing: [] };
    const watcher = this.#watcherOf(connectionId);
    const fresh = ids.filter((id) => !watcher.watched.has(id));
    if (watcher.watched.size + fresh.length > this.#options.maxWatchedPerConnection) {
      throw new CumulusError(400, 'Too many watched chains', `a connection may watch at most ${this.#options.maxWatchedPerConnection} chains at once`);
    }
    // Watched before the read: an outcome settling meanwhile is then delivered once, one way or the other.
    for (const id of fresh) this.#add(connectionId, watcher, id);
    const chains = new Map((await this.#deps.store.getChains(ids)).map((chain) => [chain._id, chain]));
    const outcomes: ChainReport[] = [];
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const chain = chains.get(id);
      const report = chain === undefined ? undefined : chainReport(chain);
      if (chain !== undefined && report === undefined) continue;
      // Delivered to the mailbox meanwhile, or answered here: never both.
      if (!this.#remove(connectionId, id)) continue;
      if (report === undefined) missing.push(id);
      else outcomes.push(report);
    }
    if (options.toMailbox === true && outcomes.length > 0) {
      watcher.mailbox.push(...outcomes.splice(0));
      if (watcher.waiting !== undefined) this.#answer(watcher, this.#drain(watcher));
    }
    return { outcomes, missing };
  }

  /**
   * The connection's delivered outcomes; with none yet, waits up to `waitMs` for one (calling
   * `unblock` first, so the connection's other calls go on). A newer call of the same
   * connection answers an older waiting one with [].
   */
  next(connectionId: string, waitMs: number, unblock: () => void): Promise<ChainReport[]> {
    const watcher = this.#byConnection.get(connectionId);
    if (watcher === undefined || this.#closed) return Promise.resolve([]);
    if (watcher.mailbox.length > 0 || waitMs === 0) return Promise.resolve(this.#drain(watcher));
    unblock();
    this.#answer(watcher, []);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#answer(watcher, []), waitMs);
      watcher.waiting = { answer: resolve, timer };
    });
  }

  /** The connection is gone: what it watched and what it was owed are dropped. */
  connectionClosed(connectionId: string): void {
    const watcher = this.#byConnection.get(connectionId);
    if (watcher === undefined) return;
    this.#answer(watcher, []);
    for (const id of watcher.watched) this.#byChain.get(id)?.delete(connectionId);
    for (const id of watcher.watched) if (this.#byChain.get(id)?.size === 0) this.#byChain.delete(id);
    this.#byConnection.delete(connectionId);
  }

  /** Answers every waiting call and watches nothing more: the server is stopping. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    for (const connectionId of [...this.#byConnection.keys()]) this.connectionClosed(connectionId);
  }

  #deliverSettled(ids: string[]): void {
    this.#deps.store.getChains(ids).then(
      (chains) => {
        for (const chain of chains) {
          const report = chainReport(chain);
          if (report === undefined) continue;
          for (const connectionId of [...(this.#byChain.get(chain._id) ?? [])]) {
            const watcher = this.#byConnection.get(connectionId);
            if (watcher === undefined || !this.#remove(connectionId, chain._id)) continue;
            watcher.mailbox.push(report);
            if (watcher.waiting !== undefined) this.#answer(watcher, this.#drain(watcher));
          }
        }
      },
      (error: unknown) => this.#deps.logger.error({ err: error }, 'reading settled chains for their watchers failed'),
    );
  }

  #watcherOf(connectionId: string): Watcher {
    let watcher = this.#byConnection.get(connectionId);
    if (watcher === undefined) {
      watcher = { watched: new Set(), mailbox: [], waiting: undefined };
      this.#byConnection.set(connectionId, watcher);
    }
    return watcher;
  }

  #add(connectionId: string, watcher: Watcher, chainId: string): void {
    watcher.watched.add(chainId);
    let connections = this.#byChain.get(chainId);
    if (connections === undefined) {
      connections = new Set();
      this.#byChain.set(chainId, connections);
    }
    connections.add(connectionId);
  }

  /** Stops watching; false when the connection was not watching the chain (any more). */
  #remove(connectionId: string, chainId: string): boolean {
    const watcher = this.#byConnection.get(connectionId);
    if (watcher === undefined || !watcher.watched.delete(chainId)) return false;
    const connections = this.#byChain.get(chainId);
    connections?.delete(connectionId);
    if (connections?.size === 0) this.#byChain.delete(chainId);
    return true;
  }

  #drain(watcher: Watcher): ChainReport[] {
    const reports = watcher.mailbox;
    watcher.mailbox = [];
    return reports;
  }

  #answer(watcher: Watcher, reports: ChainReport[]): void {
    const waiting = watcher.waiting;
    if (waiting === undefined) return;
    watcher.waiting = undefined;
    clearTimeout(waiting.timer);
    waiting.answer(reports);
  }
}
