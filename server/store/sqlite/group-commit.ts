/**
 * The single writer of a SQLite file, with group commit. A durable commit costs an fsync, so
 * instead of one transaction per call, every work queued during one event-loop turn runs
 * inside ONE `BEGIN IMMEDIATE … COMMIT`, each in its own savepoint: a work that throws is
 * rolled back alone, the others are kept, and all of them pay for a single fsync.
 *
 * With a `durability` function the fsync leaves the event loop: COMMIT only writes the batch
 * to the log, the next batch may run at once, and this batch's works settle (and its
 * observers hear of it) once `durability` — an fsync of the log on a thread of its own —
 * has finished. Batches still settle in commit order, and nothing is answered before it is
 * on disk.
 */
import type { Database, Statement } from 'better-sqlite3';

/** Told once per batch about the fate of the batch's works that were kept. */
export interface BatchObserver {
  /** Batch `batch` is on disk. */
  batchCommitted(batch: number): void;
  /** Batch `batch` was not written (its COMMIT or BEGIN failed), or could not be made durable. */
  batchAborted(batch: number): void;
}

/** One queued work and what to do once its fate is known. */
export interface WriteWork<T> {
  run(): Promise<T> | T;
  /** Its savepoint was released: its writes are part of the commit of batch `batch`. */
  kept?(batch: number): void;
  observer?: BatchObserver;
}

/**
 * Makes everything committed so far durable (an fsync of the write-ahead log). Called after
 * COMMIT, while the next batch may already be writing; a rejection means the disk failed.
 */
export type Durability = () => Promise<void>;

interface Queued {
  work: WriteWork<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The write queue of one connection: works run one after another, committed in batches. */
export class GroupCommitQueue {
  readonly #db: Database;
  readonly #sql: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Statement>;
  #queue: Queued[] = [];
  #scheduled = false;
  #draining = false;
  #workRunning = false;
  /** Works queued while a work of the current batch ran (suspected nested transactions). */
  #queuedFromWork: Queued[] | undefined;
  #closedReason: string | undefined;
  #batchEndWaiters: (() => void)[] = [];
  #batches = 0;
  readonly #durability: Durability | undefined;
  /** The sync in progress, and the one queued behind it for batches committed meanwhile. */
  #syncing: Promise<void> | undefined;
  #nextSync: Promise<void> | undefined;
  /** Settles when the last committed batch has settled; never rejects. */
  #settled: Promise<void> = Promise.resolve();
  #batchListener: ((transactions: number, seconds: number) => void) | undefined;
  /** Reads in `quiesced`: while any is, no batch starts. */
  #holds = 0;

  /**
   * @param durability How a commit is made durable once written; without it a commit is
   *   taken as durable when COMMIT returns (`synchronous = FULL`, or a database in memory).
   */
  constructor(db: Database, durability?: Durability) {
    this.#db = db;
    this.#durability = durability;
    this.#sql = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT work'),
      release: db.prepare('RELEASE work'),
      rollbackTo: db.prepare('ROLLBACK TO work'),
    };
  }

  /**
   * Queues `work` for the next batch; the promise settles once the batch is committed (with
   * the work's value) or the work is rolled back (with its error).
   *
   * Never call this from inside a work and await it: the batch waits for the work, the work
   * for the next batch, which never starts. Such a deadlock is detected one event-loop turn
   * later (see `#checkStalled`) and broken by rejecting the inner call.
   */
  enqueue<T>(work: WriteWork<T>): Promise<T> {
    if (this.#closedReason !== undefined) return Promise.reject(new Error(this.#closedReason));
    return new Promise<T>((resolve, reject) => {
      const queued: Queued = { work: work as WriteWork<unknown>, resolve: resolve as (value: unknown) => void, reject };
      this.#queue.push(queued);
      if (this.#workRunning && this.#queuedFromWork !== undefined) {
        if (this.#queuedFromWork.length === 0) {
          const batchNumber = this.#batches;
          setImmediate(() => this.#checkStalled(batchNumber));
        }
        this.#queuedFromWork.push(queued);
      }
      this.#schedule();
    });
  }

  /**
   * Runs `read` at a moment when no batch is being written and every committed batch is durable
   * and told to its observers: what it reads is then exactly what the observers have heard of,
   * a baseline that the changes announced afterwards can be added to (counts kept by deltas).
   * A read on the read-only connection at another moment may see a batch committed but not yet
   * announced, whose changes would then be counted twice. Writes wait meanwhile (a sync at most).
   */
  async quiesced<T>(read: () => T): Promise<T> {
    this.#holds += 1;
    try {
      while (this.#draining) await new Promise<void>((resolve) => this.#batchEndWaiters.push(resolve));
      await this.#settled;
      return read();
    } finally {
      this.#holds -= 1;
      if (this.#holds === 0 && this.#queue.length > 0) this.#schedule();
    }
  }

  /** Told of each batch once it is durable: how many transactions it held, and how long it took. */
  onBatchDurable(listener: (transactions: number, seconds: number) => void): void {
    this.#batchListener = listener;
  }

  /** How many batches (BEGIN … COMMIT) ran, committed or not: for tests and measurements. */
  get batchCount(): number {
    return this.#batches;
  }

  /**
   * Refuses new works (they reject with `reason`) and resolves once every work already queued
   * has settled.
   */
  async close(reason: string): Promise<void> {
    this.#closedReason ??= reason;
    while (this.#draining || this.#queue.length > 0) {
      if (!this.#draining) this.#schedule();
      await new Promise<void>((resolve) => this.#batchEndWaiters.push(resolve));
    }
    await this.#settled;
  }

  #schedule(): void {
    if (this.#scheduled || this.#draining || this.#holds > 0) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: every call made during this turn of the event loop
    // (a burst of method calls from many sockets) joins the same batch.
    setImmediate(() => void this.#drain());
  }

  async #drain(): Promise<void> {
    this.#scheduled = false;
    // A quiesced read began after this drain was scheduled: it schedules it again when done.
    if (this.#holds > 0) return;
    const batch = this.#queue;
    // Works queued while this batch runs go to the next one.
    this.#queue = [];
    if (batch.length === 0) return;
    this.#draining = true;
    this.#batches += 1;
    const batchNumber = this.#batches;
    const started = performance.now();
    this.#queuedFromWork = [];
    const outcomes: Outcome[] = [];
    try {
      this.#sql.begin.run();
      for (const queued of batch) outcomes.push(await this.#runOne(queued.work, batchNumber));
      this.#sql.commit.run();
    } catch (error) {
      this.#abort(batch, batchNumber, error);
      this.#finish();
      return;
    }
    this.#settleWhenDurable(batch, batchNumber, outcomes, started);
    // The next batch may write while this one is being synced.
    this.#finish();
  }

  /** Settles the works of a committed batch once it is durable, after every earlier batch. */
  #settleWhenDurable(batch: readonly Queued[], batchNumber: number, outcomes: readonly Outcome[], started: number): void {
    const settle = (failure: { error: unknown } | undefined) => {
      if (failure === undefined) this.#batchListener?.(batch.length, (performance.now() - started) / 1000);
      for (const observer of observersOf(batch)) {
        if (failure === undefined) observer.batchCommitted(batchNumber);
        else observer.batchAborted(batchNumber);
      }
      batch.forEach((queued, index) => {
        const outcome = outcomes[index];
        if (failure !== undefined) queued.reject(failure.error);
        else if (outcome?.ok) queued.resolve(outcome.value);
        else queued.reject(outcome?.error);
      });
    };
    if (this.#durability === undefined) {
      settle(undefined);
      return;
    }
    const durable = this.#sync();
    const earlier = this.#settled;
    this.#settled = (async () => {
      let failure: { error: unknown } | undefined;
      try {
        await durable;
      } catch (error) {
        failure = { error: this.#durabilityFailed(error) };
      }
      await earlier;
      settle(failure);
    })();
  }

  /**
   * A sync that starts after the caller's COMMIT: the one in progress may have started before
   * it, so a caller arriving meanwhile waits for the next one, which every batch committed in
   * between shares.
   */
  #sync(): Promise<void> {
    const durability = this.#durability;
    if (durability === undefined) return Promise.resolve();
    if (this.#syncing === undefined) {
      const syncing = durability().finally(() => {
        if (this.#syncing === syncing) this.#syncing = undefined;
      });
      this.#syncing = syncing;
      return syncing;
    }
    this.#nextSync ??= this.#syncing.then(
      () => {
        this.#nextSync = undefined;
        return this.#sync();
      },
      (error: unknown) => {
        this.#nextSync = undefined;
        throw error;
      },
    );
    return this.#nextSync;
  }

  /**
   * After a failed fsync the kernel may have dropped the unwritten pages: nothing written
   * since can be trusted to be on disk. The queue refuses every later work; the server must
   * be restarted (SQLite recovers the log on open).
   */
  #durabilityFailed(error: unknown): Error {
    const reason =
      `The SQLite file could not be synced to disk (${error instanceof Error ? error.message : String(error)}); ` +
      'writes are refused until the server is restarted';
    this.#closedReason ??= reason;
    return new Error(reason, { cause: error });
  }

  /**
   * A work that only awaits its transaction runs to its end within the microtasks of one
   * event-loop turn. So when the next turn comes and the work is still running, it awaits
   * something else; if transactions were queued while it ran, it awaits one of them, which
   * would only run after this batch: a nested transaction, a deadlock. Rejecting them unblocks
   * the work. Cheaper than tracking async context (AsyncLocalStorage costs a third of the
   * throughput on Node 20), and armed only when a work queues a transaction. Imprecise only
   * when a work already breaks the contract by awaiting I/O: another caller's transaction
   * queued meanwhile is taken for a nested one.
   */
  #checkStalled(batchNumber: number): void {
    const suspects = this.#queuedFromWork;
    if (batchNumber !== this.#batches || suspects === undefined) return;
    this.#queuedFromWork = [];
    if (suspects.length === 0 || !this.#workRunning) return;
    this.#queue = this.#queue.filter((queued) => !suspects.includes(queued));
    const error = new Error(
      'transaction() was called from inside a transaction and awaited; nested transactions would ' +
        'deadlock, use the transaction object the work was given',
    );
    for (const queued of suspects) queued.reject(error);
  }

  async #runOne(work: WriteWork<unknown>, batchNumber: number): Promise<Outcome> {
    this.#sql.savepoint.run();
    try {
      this.#workRunning = true;
      let value: unknown;
      try {
        value = await work.run();
      } finally {
        this.#workRunning = false;
      }
      this.#sql.release.run();
      work.kept?.(batchNumber);
      return { ok: true, value };
    } catch (error) {
      // Undo this work only; ROLLBACK TO keeps the savepoint open, RELEASE closes it.
      this.#sql.rollbackTo.run();
      this.#sql.release.run();
      return { ok: false, error };
    }
  }

  #abort(batch: readonly Queued[], batchNumber: number, error: unknown): void {
    // A failed COMMIT (e.g. disk full, or a deferred constraint) leaves the transaction open.
    try {
      if (this.#db.inTransaction) this.#sql.rollback.run();
    } catch {
      // The batch is reported as failed either way; SQLite has already rolled back if it could not.
    }
    for (const observer of observersOf(batch)) observer.batchAborted(batchNumber);
    for (const queued of batch) queued.reject(error);
  }

  #finish(): void {
    this.#draining = false;
    this.#queuedFromWork = undefined;
    if (this.#queue.length > 0) this.#schedule();
    const waiters = this.#batchEndWaiters;
    this.#batchEndWaiters = [];
    for (const wake of waiters) wake();
  }
}

function observersOf(batch: readonly Queued[]): Set<BatchObserver> {
  const observers = new Set<BatchObserver>();
  for (const { work } of batch) if (work.observer) observers.add(work.observer);
  return observers;
}
