/**
 * Which Cumulus servers are alive on a database, and which one leads a duty that must run
 * once (the promotion loop of a root). A server's running jobs name it (`_private.server`), so
 * that a server never takes another live server's claims for orphans, and the claims of a
 * server whose lease lapsed are requeued (server/jobs/orphan-sweep.ts).
 */
import { randomId } from '../../shared/random-id.ts';

/** Whether this server leads one duty; it may lose and regain it while running. */
export interface Leadership {
  readonly held: boolean;
  /** Called when `held` changes. Returns an unsubscribe function. */
  onChange(listener: (held: boolean) => void): () => void;
}

export interface ServerLeases {
  /** This server run's id: new at every start, so a restarted server's old claims are a dead server's. */
  readonly serverId: string;
  /** Whether other servers may share the database (and die while this one runs). */
  readonly shared: boolean;
  /** The ids of the servers whose lease is current, this one included. */
  liveServers(): Promise<ReadonlySet<string>>;
  /** The leadership of the duty `name` (created and renewed on first use). */
  leadership(name: string): Leadership;
  /** Gives up this server's lease and leaderships, so that others take over at once. */
  close(): Promise<void>;
}

/** A leadership that is always held: the only server of a database. */
export const soleLeadership: Leadership = {
  held: true,
  onChange: () => () => undefined,
};

/**
 * The leases of a database only one server can open (SQLite, held by its lock file): this
 * server is the only live one and leads everything.
 */
export class SoleServerLeases implements ServerLeases {
  readonly serverId = randomId();
  readonly shared = false;

  async liveServers(): Promise<ReadonlySet<string>> {
    return new Set([this.serverId]);
  }

  leadership(): Leadership {
    return soleLeadership;
  }

  async close(): Promise<void> {}
}
