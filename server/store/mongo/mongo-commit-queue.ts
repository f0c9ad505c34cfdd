/**
 * Group commit for MongoDB: the works queued while a transaction commits run together in the
 * next one, one after the other on one session, so a burst of method calls costs one commit
 * with majority write concern instead of one each.
 *
 * MongoDB has no savepoints, so a work that fails (a duplicate id, a bug) cannot be undone
 * alone: the transaction is aborted and the batch runs again without it. A write conflict
 * with another server or a lost connection (label TransientTransactionError) runs the whole
 * batch again after a short pause; that is why works must be repeatable
 * (server/store/job-store.ts). After `maxAttempts` the batch is refused with a
 * `StoreUnavailableError`, as it is at once when a commit's outcome stays unknown (label
 * UnknownTransactionCommitResult after the commit's own retries): running it again could apply
 * it twice.
 */
import { ChangeRecorder } from '../change-collector.ts';
import { StoreUnavailableError } from '../store-unavailable-error.ts';
import type { ClientLike, SessionLike } from './mongo-api.ts';
import { type MongoCollections, MongoTransaction } from './mongo-transaction.ts';

export interface QueuedWork<T> {
  run(tx: MongoTransaction): Promise<T>;
}

interface Pending {
  work: QueuedWork<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface CommitQueueOptions {
  /** Works per transaction at most. */
  maxBatch: number;
  /** Runs of one batch before it is given up (conflicts, lost connections). */
  maxAttempts: number;
  /**
   * Runs of one batch, of those, that may find no server at all: each waits the driver's server
   * selection timeout, so a database that is gone answers 503 after a couple of them.
   */
  maxUnreachableAttempts: number;
  /** Pause before running a batch again, doubled each time, in ms. */
  retryDelayMs: number;
}

// Smaller batches than SQLite's: a conflict with another server runs the whole batch again.
export const commitQueueDefaults: CommitQueueOptions = { maxBatch: 100, maxAttempts: 8, maxUnreachableAttempts: 2, retryDelayMs: 5 };

/** Told of each committed batch: the recorders of its works, and how long the commit took. */
export type BatchListener = (recorders: readonly ChangeRecorder[], seconds: number) => void;

export class MongoCommitQueue {
  readonly #client: ClientLike;
  readonly #collections: MongoCollections;
  readonly #committed: BatchListener;
  readonly #options: CommitQueueOptions;
  readonly #queue: Pending[] = [];
  /** Hex ids of the logical sessions this queue committed with: their change events are its own. */
  readonly ownSessions = new Set<string>();
  #session: SessionLike | undefined;
  #draining: Promise<void> | undefined;
  /** Set while a read must see no batch half told (see `quiesced`); batches wait for it. */
  #held: Promise<unknown> | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(client: ClientLike, collections: MongoCollections, committed: BatchListener, options: Partial<CommitQueueOptions> = {}) {
    this.#client = client;
    this.#collections = collections;
    this.#committed = committed;
    this.#options = { ...commitQueueDefaults, ...options };
  }

  enqueue<T>(work: QueuedWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#draining ??= this.#drain();
    });
  }

  /** Resolves once every queued work has settled. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
  }

  /**
   * Runs `read` when no batch is between its commit and its listeners, holding the next batch
   * until it is done: what it reads was all told to the listeners, or none of it was.
   */
  async quiesced<T>(read: () => Promise<T>): Promise<T> {
    while (this.#held !== undefined) await this.#held.catch(() => undefined);
    const current = this.#inFlight;
    const result = (async () => {
      // The batch in progress finishes (and is told) first; the next one waits for `read`.
      await current;
      return read();
    })();
    this.#held = result;
    try {
      return await result;
    } finally {
      if (this.#held === result) this.#held = undefined;
    }
  }

  async close(): Promise<void> {
    await this.idle();
    await this.#session?.endSession();
    this.#session = undefined;
  }

  async #drain(): Promise<void> {
    for (;;) {
      while (this.#held !== undefined) await this.#held.catch(() => undefined);
      if (this.#queue.length === 0) {
        // Cleared in the same turn the queue is seen empty: a work queued after this starts a
        // new drain, one queued before it is taken here.
        this.#draining = undefined;
        return;
      }
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      // Rejecting a member already settled does nothing: this only catches the unforeseen.
      this.#inFlight = this.#runBatch(batch).catch((error: unknown) => batch.forEach((member) => member.reject(error)));
      await this.#inFlight;
      this.#inFlight = undefined;
    }
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    let members = batch;
    let attempts = 0;
    let unreachable = 0;
    let lastError: unknown;
    while (members.length > 0) {
      if (attempts >= this.#options.maxAttempts || unreachable >= this.#options.maxUnreachableAttempts) {
        const error = new StoreUnavailableError('MongoDB', lastError);
        for (const member of members) member.reject(error);
        return;
      }
      const session = this.#sessionForBatch();
      const outcome = await this.#attempt(session, members);
      if (outcome.kind === 'committed') {
        this.#committed(outcome.recorders, outcome.seconds);
        members.forEach((member, index) => member.resolve(outcome.values[index]));
        return;
      }
      if (outcome.kind === 'work failed') {
        // Its own error: refused alone, the others run again in a fresh transaction.
        outcome.member.reject(outcome.error);
        members = members.filter((member) => member !== outcome.member);
        continue;
      }
      if (outcome.kind === 'outcome unknown') {
        const error = new StoreUnavailableError('MongoDB', outcome.error, { outcomeUnknown: true });
        for (const member of members) member.reject(error);
        await this.#dropSession();
        return;
      }
      attempts += 1;
      if (isUnreachable(outcome.error)) unreachable += 1;
      lastError = outcome.error;
      if (outcome.kind === 'session lost') await this.#dropSession();
      await new Promise((resolve) => setTimeout(resolve, this.#options.retryDelayMs * 2 ** (attempts - 1)));
    }
  }

  async #dropSession(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.endSession().catch(() => undefined);
  }

  #sessionForBatch(): SessionLike {
    this.#session ??= this.#client.startSession();
    return this.#session;
  }

  async #attempt(
    session: SessionLike,
    members: readonly Pending[],
  ): Promise<
    | { kind: 'committed'; values: unknown[]; recorders: ChangeRecorder[]; seconds: number }
    | { kind: 'work failed'; member: Pending; error: unknown }
    | { kind: 'retry' | 'session lost' | 'outcome unknown'; error: unknown }
  > {
    const started = performance.now();
    const values: unknown[] = [];
    const recorders: ChangeRecorder[] = [];
    try {
      session.startTransaction({ readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' });
    } catch (error) {
      return { kind: 'session lost', error };
    }
    for (const member of members) {
      const recorder = new ChangeRecorder();
      const tx = new MongoTransaction(this.#collections, session, recorder);
      try {
        values.push(await member.work.run(tx));
        recorders.push(recorder);
      } catch (error) {
        await session.abortTransaction().catch(() => undefined);
        // The database's trouble, not the work's: the whole batch may succeed when run again.
        if (isTransient(error)) return { kind: 'retry', error };
        if (isUnreachable(error)) return { kind: 'session lost', error };
        return { kind: 'work failed', member, error };
      } finally {
        tx.end();
      }
    }
    // Known before the commit, so that its change events are never taken for another writer's.
    const sessionId = session.id?.id.toString('hex');
    if (sessionId !== undefined) this.ownSessions.add(sessionId);
    try {
      await commitWithRetry(session);
    } catch (error) {
      // Only a commit the server says did not happen (TransientTransactionError) may run again:
      // after any other failure the commit may have happened, and running it again could apply
      // it twice (a first attempt lost on the network, a retry that finds no server, say).
      if (!isTransient(error)) return { kind: 'outcome unknown', error };
      await session.abortTransaction().catch(() => undefined);
      return { kind: 'retry', error };
    }
    return { kind: 'committed', values, recorders, seconds: (performance.now() - started) / 1000 };
  }
}

/** Retries the commit itself while its outcome is unknown, as the driver's own helper does. */
async function commitWithRetry(session: SessionLike): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await session.commitTransaction();
      return;
    } catch (error) {
      if (attempt >= 3 || !hasLabel(error, 'UnknownTransactionCommitResult')) throw error;
    }
  }
}

function hasLabel(error: unknown, label: string): boolean {
  const labelled = error as { hasErrorLabel?: (name: string) => boolean } | null;
  return typeof labelled?.hasErrorLabel === 'function' && labelled.hasErrorLabel(label);
}

const networkErrors = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'MongoTopologyClosedError',
]);

/**
 * The database could not be reached (as opposed to refusing what was asked). The driver labels
 * only errors of a connection it had; finding no server at all carries no label, hence the names.
 */
export function isUnreachable(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return (typeof name === 'string' && networkErrors.has(name)) || hasLabel(error, 'RetryableWriteError') || hasLabel(error, 'PoolRequestedRetry');
}

/** A conflict or a lost connection: the whole transaction may succeed if run again. */
export function isTransient(error: unknown): boolean {
  return hasLabel(error, 'TransientTransactionError');
}
