/**
 * The single writer of a SQLite file, with group commit. A durable commit costs an fsync, so
 * instead of one transaction per call, every work queued during one event-loop turn runs
 * inside ONE `BEGIN IMMEDIATE … COMMIT`, each in its own savepoint: a work that throws is
 * rolled back alone, the others are kept, and all of them pay for a single fsync.
 */
import type { Database, Statement } from 'better-sqlite3';

/** Told once per batch about the fate of the batch's works that were kept. */
export interface BatchObserver {
  /** The batch is on disk. */
  batchCommitted(): void;
  /** The batch's COMMIT (or BEGIN) failed: nothing of it was written. */
  batchAborted(): void;
}

/** One queued work and what to do once its fate is known. */
export interface WriteWork<T> {
  run(): Promise<T> | T;
  /** Its savepoint was released: its writes are part of the batch's commit. */
  kept?(): void;
  observer?: BatchObserver;
}

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

  constructor(db: Database) {
    this.#db = db;
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
  }

  #schedule(): void {
    if (this.#scheduled || this.#draining) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: every call made during this turn of the event loop
    // (a burst of method calls from many sockets) joins the same batch.
    setImmediate(() => void this.#drain());
  }

  async #drain(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#queue;
    // Works queued while this batch runs go to the next one.
    this.#queue = [];
    if (batch.length === 0) return;
    this.#draining = true;
    this.#batches += 1;
    this.#queuedFromWork = [];
    const outcomes: Outcome[] = [];
    try {
      this.#sql.begin.run();
      for (const queued of batch) outcomes.push(await this.#runOne(queued.work));
      this.#sql.commit.run();
    } catch (error) {
      this.#abort(batch, error);
      this.#finish();
      return;
    }
    for (const observer of observersOf(batch)) observer.batchCommitted();
    batch.forEach((queued, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) queued.resolve(outcome.value);
      else queued.reject(outcome?.error);
    });
    this.#finish();
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

  async #runOne(work: WriteWork<unknown>): Promise<Outcome> {
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
      work.kept?.();
      return { ok: true, value };
    } catch (error) {
      // Undo this work only; ROLLBACK TO keeps the savepoint open, RELEASE closes it.
      this.#sql.rollbackTo.run();
      this.#sql.release.run();
      return { ok: false, error };
    }
  }

  #abort(batch: readonly Queued[], error: unknown): void {
    // A failed COMMIT (e.g. disk full, or a deferred constraint) leaves the transaction open.
    try {
      if (this.#db.inTransaction) this.#sql.rollback.run();
    } catch {
      // The batch is reported as failed either way; SQLite has already rolled back if it could not.
    }
    for (const observer of observersOf(batch)) observer.batchAborted();
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
