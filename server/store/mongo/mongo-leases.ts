/**
 * Server and leader leases in MongoDB, for several Cumulus servers on one database.
 *
 * - `cumulus.servers`: one document per running server, `{_id: serverId, host, pid, started,
 *   expiresAt}`, renewed every `renewMs`; a server whose `expiresAt` passed is dead, and its
 *   running jobs are requeued by the leader (server/jobs/orphan-sweep.ts).
 * - `cumulus.leases`: one document per duty, `{_id: name, holder, expiresAt}`; a server takes it
 *   when it is free or expired and renews it while it holds it, so exactly one server runs the
 *   duty and another takes over within `ttlMs` when the holder dies.
 *
 * Expiry is computed with the database's clock (`$$NOW`), so servers whose clocks disagree
 * still agree on who holds a lease. A holder that cannot renew for most of `ttlMs` (the
 * database is unreachable) considers its leadership lost before another server may take it.
 */
import os from 'node:os';
import type { Logger } from '../../logger.ts';
import { randomId } from '../../../shared/random-id.ts';
import type { Leadership, ServerLeases } from '../server-leases.ts';
import type { CollectionLike, DbLike } from './mongo-api.ts';

export interface MongoLeaseOptions {
  /** How long a lease lasts without renewal, in ms. */
  ttlMs: number;
  /** How often leases are renewed, in ms (well under `ttlMs`). */
  renewMs: number;
}

export const mongoLeaseDefaults: MongoLeaseOptions = { ttlMs: 10_000, renewMs: 2_000 };

class MongoLeadership implements Leadership {
  held = false;
  /** When the lease was last taken or renewed, on this process' monotonic clock. */
  renewedAt = 0;
  readonly #listeners = new Set<(held: boolean) => void>();

  constructor(readonly name: string) {}

  set(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    for (const listener of [...this.#listeners]) listener(held);
  }

  onChange(listener: (held: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}

export class MongoServerLeases implements ServerLeases {
  readonly serverId = randomId();
  readonly shared = true;
  readonly #servers: CollectionLike;
  readonly #leases: CollectionLike;
  readonly #options: MongoLeaseOptions;
  readonly #logger: Logger;
  readonly #leaderships = new Map<string, MongoLeadership>();
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #failing = false;
  #closed = false;

  constructor(db: DbLike, logger: Logger, options: Partial<MongoLeaseOptions> = {}) {
    this.#servers = db.collection('cumulus.servers');
    this.#leases = db.collection('cumulus.leases');
    this.#options = { ...mongoLeaseDefaults, ...options };
    this.#logger = logger;
  }

  /** Takes this server's lease, then renews it (and the leaderships asked for) every `renewMs`. */
  async start(): Promise<void> {
    // Old servers' documents go an hour after they expired.
    await this.#servers.createIndex({ expiresAt: 1 }, { name: 'expiry', expireAfterSeconds: 3600 });
    await this.#renewServer();
    this.#timer = setInterval(() => void this.#renewAll(), this.#options.renewMs);
    this.#timer.unref();
  }

  async liveServers(): Promise<ReadonlySet<string>> {
    const docs = await this.#servers.find({ $expr: { $gt: ['$expiresAt', '$$NOW'] } }, { projection: { _id: 1 } }).toArray();
    return new Set([this.serverId, ...docs.map((doc) => String(doc._id))]);
  }

  leadership(name: string): Leadership {
    let leadership = this.#leaderships.get(name);
    if (leadership === undefined) {
      leadership = new MongoLeadership(name);
      this.#leaderships.set(name, leadership);
      void this.#claim(leadership).catch((error: unknown) => this.#renewFailed(error));
    }
    return leadership;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#renewing;
    for (const leadership of this.#leaderships.values()) leadership.set(false);
    try {
      await this.#leases.deleteMany({ holder: this.serverId });
      await this.#servers.deleteMany({ _id: this.serverId });
    } catch (error) {
      // The leases then expire on their own.
      this.#logger.warn({ err: error }, 'could not give up the server leases; they expire on their own');
    }
  }

  async #renewAll(): Promise<void> {
    if (this.#closed || this.#renewing !== undefined) return;
    this.#renewing = (async () => {
      try {
        await this.#renewServer();
        for (const leadership of this.#leaderships.values()) await this.#claim(leadership);
        if (this.#failing) this.#logger.info('server leases renewed again');
        this.#failing = false;
      } catch (error) {
        this.#renewFailed(error);
      } finally {
        this.#dropStale();
        this.#renewing = undefined;
      }
    })();
    await this.#renewing;
  }

  async #renewServer(): Promise<void> {
    await this.#servers.updateOne(
      { _id: this.serverId },
      [{ $set: { host: os.hostname(), pid: process.pid, started: { $ifNull: ['$started', '$$NOW'] }, expiresAt: { $add: ['$$NOW', this.#options.ttlMs] } } }],
      { upsert: true },
    );
  }

  /**
   * Takes or renews a leadership. The condition is evaluated by the update itself (MongoDB
   * refuses `$expr` in the filter of an upsert): the lease changes hands only when this server
   * holds it or it has expired, and the document says who holds it afterwards.
   */
  async #claim(leadership: MongoLeadership): Promise<void> {
    if (this.#closed) return;
    const renewedAt = performance.now();
    // A lease not yet made has no expiry: the epoch stands for it.
    const mine = { $or: [{ $eq: ['$holder', this.serverId] }, { $lt: [{ $ifNull: ['$expiresAt', new Date(0)] }, '$$NOW'] }] };
    try {
      const lease = await this.#leases.findOneAndUpdate(
        { _id: leadership.name },
        [
          {
            $set: {
              holder: { $cond: [mine, this.serverId, '$holder'] },
              expiresAt: { $cond: [mine, { $add: ['$$NOW', this.#options.ttlMs] }, '$expiresAt'] },
            },
          },
        ],
        { upsert: true, returnDocument: 'after', includeResultMetadata: false },
      );
      const held = lease?.holder === this.serverId;
      if (held) leadership.renewedAt = renewedAt;
      if (!this.#closed) leadership.set(held);
    } catch (error) {
      // Two servers creating the lease at once: one of them has it; the next round tells which.
      if ((error as { code?: unknown }).code !== 11000) throw error;
      leadership.set(false);
    }
  }

  /** A leadership not renewed for 80 % of its lease is given up before another server may take it. */
  #dropStale(): void {
    const limit = this.#options.ttlMs * 0.8;
    for (const leadership of this.#leaderships.values()) {
      if (leadership.held && performance.now() - leadership.renewedAt > limit) leadership.set(false);
    }
  }

  #renewFailed(error: unknown): void {
    if (!this.#failing) this.#logger.warn({ err: error }, 'renewing the server leases failed; retrying');
    this.#failing = true;
  }
}
