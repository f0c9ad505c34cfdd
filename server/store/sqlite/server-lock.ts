/**
 * One server per SQLite file. Two servers on one file would each take the other's running jobs
 * for the orphans of a crashed run and requeue them, and both would promote, expire and repeat
 * the same jobs. So a server holds an exclusive lock for as long as it has the file open, on a
 * companion file `<file>.lock`, through SQLite's own file locking: the operating system drops
 * the lock when the process ends, however it ends, so a crash leaves no stale lock behind.
 * (Several servers on one database is what the MongoDB store is for.)
 */
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';

/** Thrown when another server (or process) holds the lock. */
export class DatabaseLockedError extends Error {
  constructor(lockFile: string) {
    super(
      `another Cumulus server is using it (it holds ${lockFile}). Two servers on one SQLite file would ` +
        "requeue each other's running jobs: stop the other server, or give this one its own DATABASE_URL",
    );
    this.name = 'DatabaseLockedError';
  }
}

export class ServerLock {
  readonly file: string;
  readonly #connection: Database;

  private constructor(file: string, connection: Database) {
    this.file = file;
    this.#connection = connection;
  }

  /** Takes the lock of `databaseFile`, or throws `DatabaseLockedError` at once if it is held. */
  static acquire(databaseFile: string): ServerLock {
    const file = `${databaseFile}.lock`;
    // No busy timeout: a held lock is refused at once, never waited for.
    const connection = new Sqlite(file, { timeout: 0 });
    try {
      connection.pragma('locking_mode = EXCLUSIVE');
      // Held until release: an exclusive transaction that writes nothing.
      connection.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      connection.close();
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw new DatabaseLockedError(file);
      throw error;
    }
    return new ServerLock(file, connection);
  }

  /** Lets another server open the database. Idempotent. */
  release(): void {
    if (!this.#connection.open) return;
    if (this.#connection.inTransaction) this.#connection.exec('ROLLBACK');
    this.#connection.close();
  }
}
