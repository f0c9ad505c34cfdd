/**
 * One SQLite database file: a writer connection behind the group-commit queue, and a
 * read-only connection for reads outside transactions, which in WAL mode sees the last commit
 * and never what a batch in progress has written.
 */
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { GroupCommitQueue } from './group-commit.ts';
import { migrate } from './migrations.ts';

/** Options of a SQLite database, with their defaults in `sqliteDefaults`. */
export interface SqliteOptions {
  /**
   * How long a connection waits for a lock held by another process (a backup, the sqlite3
   * shell) before failing. better-sqlite3 waits synchronously, blocking the event loop.
   */
  busyTimeoutMs: number;
}

/** The default `SqliteOptions`. */
export const sqliteDefaults: SqliteOptions = {
  busyTimeoutMs: 5000,
};

/** The path of a database that lives in memory only, for tests and trials. */
export const memoryPath = ':memory:';

/** An open SQLite database: its two connections, its writer queue, and their closing. */
export class SqliteDatabase {
  /** The file path, or `:memory:`. */
  readonly path: string;
  readonly writer: Database;
  /** The read-only connection; the writer itself for `:memory:`, which cannot be shared. */
  readonly reader: Database;
  readonly queue: GroupCommitQueue;
  /** Schema versions applied when this database was opened (empty when it was current). */
  readonly migrationsApplied: readonly number[];
  #closing: Promise<void> | undefined;

  private constructor(path: string, writer: Database, reader: Database, migrationsApplied: number[]) {
    this.path = path;
    this.writer = writer;
    this.reader = reader;
    this.migrationsApplied = migrationsApplied;
    this.queue = new GroupCommitQueue(writer);
  }

  /**
   * Opens (creating if needed) and migrates the database at `path`. Throws what SQLite
   * throws; the caller turns it into a message for the user.
   */
  static open(path: string, options: SqliteOptions = sqliteDefaults): SqliteDatabase {
    const writer = new Sqlite(path, { timeout: options.busyTimeoutMs });
    let reader: Database | undefined;
    try {
      configureWriter(writer);
      const applied = migrate(writer);
      if (path === memoryPath) {
        reader = writer;
      } else {
        reader = new Sqlite(path, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs });
      }
      return new SqliteDatabase(path, writer, reader, applied);
    } catch (error) {
      if (reader !== undefined && reader !== writer) reader.close();
      writer.close();
      throw error;
    }
  }

  get isMemory(): boolean {
    return this.reader === this.writer;
  }

  /** Lets every queued transaction finish, then closes both connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.queue.close('The SQLite database is closed');
      try {
        // Refreshes the planner's statistics where they have drifted, as SQLite advises at close.
        this.writer.pragma('optimize');
      } catch {
        // Statistics are an optimisation; closing must not fail for them.
      }
      if (this.reader !== this.writer) this.reader.close();
      this.writer.close();
    })();
    return this.#closing;
  }
}

function configureWriter(db: Database): void {
  // WAL lets the read connection read while a batch is written, and commits with one fsync of
  // the log. `:memory:` stays in its own journal mode, which is all it can do.
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk when COMMIT returns, power loss included. NORMAL would be
  // faster but can lose the last commits on power loss, and an acknowledged write must stay.
  db.pragma('synchronous = FULL');
  // The schema has no foreign keys: removals delete logs and dependency rows explicitly, in
  // the same transaction, which keeps "removing an antecedent leaves dependents waiting".
  db.pragma('foreign_keys = OFF');
}
