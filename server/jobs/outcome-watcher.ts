/**
 * Who awaits which outcome, per DDP connection (docs/PROTOCOL.md §7.12): the chains it
 * submitted, and the jobs it waits for (`job.result()`, `Job.waitFor()`). When a watched chain's
 * outcome is known, or a watched job completes, fails, is cancelled or removed, the report goes
 * to the connection's mailbox, and the connection's waiting `outcomes` call is answered with it.
 * A commit costs one map lookup per changed job plus the watchers of what settled: nothing per
 * subscription, nothing per idle watcher.
 *
 * The watch and the mailbox live in memory only: a connection that comes back after a drop
 * watches again, and outcomes that settled meanwhile are read from the store.
 */
import type { ChainReport } from '../../shared/chains.ts';
import { CumulusError } from '../../shared/errors.ts';
import { settledJobStatuses, type JobReport, type OutcomeBatch } from '../../shared/outcomes.ts';
import type { JobDoc } from '../../shared/job-doc.ts';
import type { JobFeed } from '../feed/job-feed.ts';
import type { Logger } from '../logger.ts';
import type { JobStore, StoredChain } from '../store/job-store.ts';

export interface OutcomeWatcherOptions {
  /** Chains and jobs one connection may watch at once; more is refused, so a client cannot grow the server without bound. */
  maxWatchedPerConnection: number;
}

export const outcomeWatcherDefaults: OutcomeWatcherOptions = {
  maxWatchedPerConnection: 100_000,
};

export interface OutcomeWatcherDeps {
  feed: JobFeed;
  store: JobStore;
  logger: Logger;
  /** Whether the connection is still open: a closed one (its method was still running) watches nothing. */
  isLive(connectionId: string): boolean;
  options?: Partial<OutcomeWatcherOptions>;
}

type Kind = keyof OutcomeBatch;
type Report<K extends Kind> = OutcomeBatch[K][number];

/** What a watch answers: the outcomes known already (no longer watched), and the ids that name nothing. */
export interface WatchAnswer<K extends Kind> {
  outcomes: Report<K>[];
  missing: string[];
}

interface Watcher {
  readonly watched: { [K in Kind]: Set<string> };
  mailbox: OutcomeBatch;
  waiting: { answer: (batch: OutcomeBatch) => void; timer: NodeJS.Timeout } | undefined;
}

export function chainReport(chain: StoredChain): ChainReport | undefined {
  return chain.outcome === undefined ? undefined : { id: chain._id, status: chain.status, outcome: chain.outcome };
}

/** A job's report, once it has an outcome (read with its failures). */
export function jobReport(job: JobDoc): JobReport | undefined {
  switch (job.status) {
    case 'completed':
      return { id: job._id, status: 'completed', result: job.result ?? {} };
    case 'failed':
    case 'cancelled':
      return { id: job._id, status: job.status, failures: job.failures ?? [] };
    default:
      return undefined;
  }
}

const emptyBatch = (): OutcomeBatch => ({ chains: [], jobs: [] });

export class OutcomeWatcher {
  readonly #deps: OutcomeWatcherDeps;
  readonly #options: OutcomeWatcherOptions;
  /** What is watched, by kind and id → the connections watching it. */
  readonly #index: { [K in Kind]: Map<string, Set<string>> } = { chains: new Map(), jobs: new Map() };
  readonly #byConnection = new Map<string, Watcher>();
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(deps: OutcomeWatcherDeps) {
    this.#deps = deps;
    this.#options = { ...outcomeWatcherDefaults, ...deps.options };
  }

  start(): void {
    this.#unsubscribe = this.#deps.feed.subscribe('outcome watcher', (changes) => {
      const chains = new Set<string>();
      const jobs = new Set<string>();
      const removed: string[] = [];
      for (const change of changes) {
        if (change.chainId !== undefined && this.#index.chains.has(change.chainId)) chains.add(change.chainId);
        if (!this.#index.jobs.has(change.id)) continue;
        if (change.status === null) removed.push(change.id);
        else if (settledJobStatuses.includes(change.status)) jobs.add(change.id);
      }
      for (const id of removed) this.#deliver('jobs', id, { id, status: 'removed' });
      if (chains.size > 0) this.#deliverRead('chains', this.#readChains([...chains]));
      if (jobs.size > 0) this.#deliverRead('jobs', this.#readJobs([...jobs]));
    });
  }

  /** Chains and jobs watched, across connections, for tests and monitoring. */
  get size(): number {
    return this.#index.chains.size + this.#index.jobs.size;
  }

  /**
   * Watches `ids` of a kind for `connectionId`. Answers the outcomes already known (those are not
   * watched further) and the ids that name nothing; the others are delivered later. With
   * `toMailbox`, known outcomes go to the mailbox instead, as later ones will.
   */
  async watch<K extends Kind>(kind: K, connectionId: string, ids: readonly string[], options: { toMailbox?: boolean } = {}): Promise<WatchAnswer<K>> {
    if (this.#closed || !this.#deps.isLive(connectionId)) return { outcomes: [], missing: [] };
    this.checkRoom(connectionId, ids.length);
    const watcher = this.#watcherOf(connectionId);
    const fresh = ids.filter((id) => !watcher.watched[kind].has(id));
    // Watched before the read: an outcome settling meanwhile is then delivered once, one way or the other.
    for (const id of fresh) this.#add(kind, connectionId, watcher, id);
    const known = kind === 'chains' ? await this.#readChains(ids) : await this.#readJobs(ids);
    const outcomes: Report<K>[] = [];
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const report = known.get(id);
      if (report === null) continue;
      // Delivered to the mailbox meanwhile, or answered here: never both.
      if (!this.#remove(kind, connectionId, id)) continue;
      if (report === undefined) missing.push(id);
      else outcomes.push(report as Report<K>);
    }
    if (options.toMailbox === true && outcomes.length > 0) {
      (watcher.mailbox[kind] as Report<K>[]).push(...outcomes.splice(0));
      this.#wake(watcher);
    }
    return { outcomes, missing };
  }

  /**
   * Throws unless the connection may watch `count` more (what it watches and what waits in its
   * mailbox both count, so a client that never collects cannot grow the server without bound).
   */
  checkRoom(connectionId: string, count: number): void {
    const watcher = this.#byConnection.get(connectionId);
    const held = watcher === undefined ? 0 : watcher.watched.chains.size + watcher.watched.jobs.size + watcher.mailbox.chains.length + watcher.mailbox.jobs.length;
    if (held + count > this.#options.maxWatchedPerConnection) {
      throw new CumulusError(
        400,
        'Too many watched outcomes',
        `a connection may watch and hold at most ${this.#options.maxWatchedPerConnection} outcomes; collect them with outcomes`,
      );
    }
  }

  /**
   * The connection's delivered outcomes; with none yet, waits up to `waitMs` for one (calling
   * `unblock` first, so the connection's other calls go on). A newer call of the same
   * connection answers an older waiting one with nothing.
   */
  next(connectionId: string, waitMs: number, unblock: () => void): Promise<OutcomeBatch> {
    const watcher = this.#byConnection.get(connectionId);
    if (watcher === undefined || this.#closed) return Promise.resolve(emptyBatch());
    if (hasOutcomes(watcher.mailbox) || waitMs === 0) return Promise.resolve(this.#drain(watcher));
    unblock();
    this.#answer(watcher, emptyBatch());
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#answer(watcher, emptyBatch()), waitMs);
      watcher.waiting = { answer: resolve, timer };
    });
  }

  /** The connection is gone: what it watched and what it was owed are dropped. */
  connectionClosed(connectionId: string): void {
    const watcher = this.#byConnection.get(connectionId);
    if (watcher === undefined) return;
    this.#answer(watcher, emptyBatch());
    for (const kind of ['chains', 'jobs'] as const) {
      for (const id of [...watcher.watched[kind]]) this.#remove(kind, connectionId, id);
    }
    this.#byConnection.delete(connectionId);
  }

  /** Answers every waiting call and watches nothing more: the server is stopping. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    for (const connectionId of [...this.#byConnection.keys()]) this.connectionClosed(connectionId);
  }

  /** Reports by id: a report when settled, null when not yet, absent when there is no such thing. */
  async #readChains(ids: readonly string[]): Promise<Map<string, ChainReport | null>> {
    const chains = await this.#deps.store.getChains(ids);
    return new Map(chains.map((chain) => [chain._id, chainReport(chain) ?? null]));
  }

  async #readJobs(ids: readonly string[]): Promise<Map<string, JobReport | null>> {
    const jobs = await this.#deps.store.getJobs(ids, { failures: true });
    return new Map(jobs.map((job) => [job._id, jobReport(job) ?? null]));
  }

  #deliverRead<K extends Kind>(kind: K, reading: Promise<Map<string, Report<K> | null>>): void {
    reading.then(
      (reports) => {
        for (const [id, report] of reports) if (report !== null) this.#deliver(kind, id, report);
      },
      (error: unknown) => this.#deps.logger.error({ err: error, kind }, 'reading settled outcomes for their watchers failed'),
    );
  }

  /** Gives the report to every connection still watching `id`. */
  #deliver<K extends Kind>(kind: K, id: string, report: Report<K>): void {
    for (const connectionId of [...(this.#index[kind].get(id) ?? [])]) {
      const watcher = this.#byConnection.get(connectionId);
      if (watcher === undefined || !this.#remove(kind, connectionId, id)) continue;
      (watcher.mailbox[kind] as Report<K>[]).push(report);
      this.#wake(watcher);
    }
  }

  #watcherOf(connectionId: string): Watcher {
    let watcher = this.#byConnection.get(connectionId);
    if (watcher === undefined) {
      watcher = { watched: { chains: new Set(), jobs: new Set() }, mailbox: emptyBatch(), waiting: undefined };
      this.#byConnection.set(connectionId, watcher);
    }
    return watcher;
  }

  #add(kind: Kind, connectionId: string, watcher: Watcher, id: string): void {
    watcher.watched[kind].add(id);
    let connections = this.#index[kind].get(id);
    if (connections === undefined) this.#index[kind].set(id, (connections = new Set()));
    connections.add(connectionId);
  }

  /** Stops watching; false when the connection was not watching it (any more). */
  #remove(kind: Kind, connectionId: string, id: string): boolean {
    const watcher = this.#byConnection.get(connectionId);
    if (watcher === undefined || !watcher.watched[kind].delete(id)) return false;
    const connections = this.#index[kind].get(id);
    connections?.delete(connectionId);
    if (connections?.size === 0) this.#index[kind].delete(id);
    return true;
  }

  #wake(watcher: Watcher): void {
    if (watcher.waiting !== undefined) this.#answer(watcher, this.#drain(watcher));
  }

  #drain(watcher: Watcher): OutcomeBatch {
    const batch = watcher.mailbox;
    watcher.mailbox = emptyBatch();
    return batch;
  }

  #answer(watcher: Watcher, batch: OutcomeBatch): void {
    const waiting = watcher.waiting;
    if (waiting === undefined) return;
    watcher.waiting = undefined;
    clearTimeout(waiting.timer);
    waiting.answer(batch);
  }
}

function hasOutcomes(batch: OutcomeBatch): boolean {
  return batch.chains.length > 0 || batch.jobs.length > 0;
}
