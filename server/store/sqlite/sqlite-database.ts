/**
 * One SQLite database file: a writer connection behind the group-commit queue, and a
 * read-only connection for reads outside transactions, which in WAL mode sees the last commit
 * and never what a batch in progress has written.
 *
 * Durability without stopping the event loop: the writer commits with `synchronous = NORMAL`
 * (COMMIT writes the log, no fsync) and the group commit then fsyncs the log on libuv's thread
 * pool before it answers anyone; checkpoints run on a thread of their own (`Checkpointer`).
 * An answered write is on disk, power loss included, as with `synchronous = FULL`. A read on
 * the read-only connection may see a batch in the moment between its COMMIT and its fsync.
 */
import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { Checkpointer } from './checkpointer.ts';
import { GroupCommitQueue, type Durability } from './group-commit.ts';
import { migrate } from './migrations.ts';
import { ServerLock } from './server-lock.ts';

/** Options of a SQLite database, with their defaults in `sqliteDefaults`. */
export interface SqliteOptions {
  /**
   * How long a connection waits for a lock held by another process (a backup, the sqlite3
   * shell) before failing. better-sqlite3 waits synchronously, blocking the event loop.
   */
  busyTimeoutMs: number;
  /** The shortest time between two checkpoints of the write-ahead log. */
  checkpointIntervalMs: number;
  /** How many pages the log may hold before the writer helps the checkpoints catch up. */
  checkpointRestartFrames: number;
  /** Told of what fails in the background (a checkpoint); the database goes on. */
  onBackgroundError(error: Error): void;
}

/** The default `SqliteOptions`. */
export const sqliteDefaults: SqliteOptions = {
  busyTimeoutMs: 5000,
  checkpointIntervalMs: 250,
  checkpointRestartFrames: 4096,
  onBackgroundError: () => {},
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
  /** The log's checkpoints; absent in memory. */
  readonly checkpointer: Checkpointer | undefined;
  readonly #walFd: number | undefined;
  readonly #lock: ServerLock | undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    path: string,
    connections: { writer: Database; reader: Database },
    migrationsApplied: number[],
    durable?: { walFd: number; checkpointer: Checkpointer; lock: ServerLock | undefined },
  ) {
    this.path = path;
    this.writer = connections.writer;
    this.reader = connections.reader;
    this.migrationsApplied = migrationsApplied;
    this.checkpointer = durable?.checkpointer;
    this.#walFd = durable?.walFd;
    this.#lock = durable?.lock;
    let durability: Durability | undefined;
    if (durable !== undefined) {
      const { walFd, checkpointer } = durable;
      durability = async () => {
        await fdatasync(walFd);
        checkpointer.noteCommit();
      };
    }
    this.queue = new GroupCommitQueue(connections.writer, durability);
  }

  /**
   * Opens (creating if needed) and migrates the database at `path`. Throws what SQLite
   * throws; the caller turns it into a message for the user.
   */
  static open(file: string, options: Partial<SqliteOptions> = {}): SqliteDatabase {
    const settings = { ...sqliteDefaults, ...options };
    // Before anything touches the file: a second server must not even migrate it.
    const lock = file === memoryPath ? undefined : ServerLock.acquire(file);
    let writer: Database | undefined;
    let reader: Database | undefined;
    let walFd: number | undefined;
    try {
      writer = new Sqlite(file, { timeout: settings.busyTimeoutMs });
      configureWriter(writer);
      const applied = migrate(writer);
      if (file === memoryPath) return new SqliteDatabase(file, { writer, reader: writer }, applied);
      reader = new Sqlite(file, { readonly: true, fileMustExist: true, timeout: settings.busyTimeoutMs });
      walFd = openWriteAheadLog(file);
      const checkpointer = new Checkpointer({
        path: file,
        busyTimeoutMs: settings.busyTimeoutMs,
        intervalMs: settings.checkpointIntervalMs,
        restartFrames: settings.checkpointRestartFrames,
        writer,
        onError: settings.onBackgroundError,
      });
      return new SqliteDatabase(file, { writer, reader }, applied, { walFd, checkpointer, lock });
    } catch (error) {
      if (walFd !== undefined) fs.closeSync(walFd);
      reader?.close();
      writer?.close();
      lock?.release();
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
      await this.checkpointer?.close();
      if (this.#walFd !== undefined) fs.closeSync(this.#walFd);
      try {
        // Refreshes the planner's statistics where they have drifted, as SQLite advises at close.
        this.writer.pragma('optimize');
      } catch {
        // Statistics are an optimisation; closing must not fail for them.
      }
      if (this.reader !== this.writer) this.reader.close();
      // The last connection to close checkpoints the whole log (syncing it and the database,
      // which NORMAL does at checkpoints) and removes it.
      this.writer.close();
      this.#lock?.release();
    })();
    return this.#closing;
  }
}

function configureWriter(db: Database): void {
  // WAL lets the read connection read while a batch is written, and commits with one fsync of
  // the log. `:memory:` stays in its own journal mode, which is all it can do.
  db.pragma('journal_mode = WAL');
  if (db.memory) {
    db.pragma('synchronous = FULL');
  } else {
    // NORMAL: COMMIT does not fsync; the group commit fsyncs the log itself, off the event
    // loop, before it answers. Checkpoints (which NORMAL does sync) run on their own thread.
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    // When the log starts over after a burst, it shrinks back to this size (64 MiB).
    db.pragma('journal_size_limit = 67108864');
  }
  // The schema has no foreign keys: removals delete dependency rows explicitly, in
  // the same transaction, which keeps "removing an antecedent leaves dependents waiting".
  db.pragma('foreign_keys = OFF');
}

/**
 * A descriptor of the file's write-ahead log, to fsync it. SQLite created the log when the
 * writer first read in WAL mode and keeps it while a connection is open (it only truncates or
 * rewrites it); the directory is synced once so that the log's own name is on disk too.
 */
function openWriteAheadLog(file: string): number {
  const fd = fs.openSync(`${file}-wal`, 'r+');
  const directory = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(directory);
  } finally {
    fs.closeSync(directory);
  }
  return fd;
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (error) => (error === null ? resolve() : reject(error)));
  });
}
