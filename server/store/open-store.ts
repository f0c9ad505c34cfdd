/**
 * From `DATABASE_URL` to one `JobStore` per collection root. This is where a backend is
 * chosen, and where every reason it cannot be opened becomes a `StoreOpenError` whose message
 * the user reads as it is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createLogger, type Logger } from '../logger.ts';
import type { JobStore } from './job-store.ts';
import { SqliteDatabase, memoryPath } from './sqlite/sqlite-database.ts';
import { SqliteJobStore } from './sqlite/sqlite-job-store.ts';
import { StoreOpenError } from './store-open-error.ts';

/** The stores of one database, and how to close them all. */
export interface OpenedStores {
  /** One store per root, keyed by root. */
  stores: Map<string, JobStore>;
  /** Closes every store (letting queued transactions finish), then the database. */
  close(): Promise<void>;
  /** Told of each group commit once durable: its transactions and its time (for metrics). */
  onCommitBatch(listener: (transactions: number, seconds: number) => void): void;
}

/** What a `DATABASE_URL` designates. */
export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'mongodb' };

const acceptedForms =
  'sqlite:./relative/path.db (relative to the working directory), sqlite:/absolute/path.db, ' +
  'sqlite::memory: (nothing kept after exit), or mongodb://… and mongodb+srv://…';

/**
 * Parses a `DATABASE_URL`. A sqlite path is resolved against the working directory; the URL
 * is never repeated in a message, since a MongoDB URL may carry a password.
 */
export function parseDatabaseUrl(databaseUrl: string): DatabaseLocation {
  const url = databaseUrl.trim();
  if (/^mongodb(\+srv)?:\/\//i.test(url)) return { kind: 'mongodb' };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  if (scheme === undefined || scheme.toLowerCase() !== 'sqlite') {
    const what = scheme === undefined ? 'has no scheme' : `has the scheme "${scheme}:", which Cumulus does not know`;
    throw new StoreOpenError(`DATABASE_URL ${what}. Accepted forms: ${acceptedForms}.`);
  }
  const rest = url.slice(scheme.length + 1);
  if (rest === memoryPath) return { kind: 'sqlite', path: memoryPath };
  if (rest === '') throw new StoreOpenError(`DATABASE_URL "sqlite:" names no file. Accepted forms: ${acceptedForms}.`);
  if (rest.startsWith('//')) {
    // "sqlite:///x" means an absolute path to some tools and a relative one to others: refuse
    // rather than guess which file the user meant.
    throw new StoreOpenError(
      `DATABASE_URL "${url}" uses "sqlite://", which is ambiguous; write sqlite: followed directly by the path. ` +
        `Accepted forms: ${acceptedForms}.`,
    );
  }
  return { kind: 'sqlite', path: path.resolve(rest) };
}

/**
 * Opens the database of `databaseUrl` and a store for each of `roots` (the collection roots,
 * e.g. `queue`). Throws a `StoreOpenError` when the URL is not usable or the database cannot
 * be opened.
 */
export async function openStores(databaseUrl: string, roots: readonly string[], options: { logger?: Logger } = {}): Promise<OpenedStores> {
  const location = parseDatabaseUrl(databaseUrl);
  if (location.kind === 'mongodb') {
    throw new StoreOpenError(
      'The MongoDB store is not available yet in this version of Cumulus. ' +
        'Use a SQLite database instead, e.g. DATABASE_URL=sqlite:./data/cumulus.db',
    );
  }
  const database = openSqlite(location.path, options.logger ?? createLogger());
  const stores = new Map<string, JobStore>();
  // The database closes when its last store does, whichever way the stores are closed.
  let open = new Set(roots).size;
  const release = async () => {
    open -= 1;
    if (open === 0) await database.close();
  };
  for (const root of new Set(roots)) stores.set(root, new SqliteJobStore(database, root, release, options.logger));
  return {
    stores,
    async close() {
      await Promise.all([...stores.values()].map((store) => store.close()));
      await database.close();
    },
    onCommitBatch(listener) {
      database.queue.onBatchDurable(listener);
    },
  };
}

function openSqlite(file: string, logger: Logger): SqliteDatabase {
  const where = file === memoryPath ? 'the in-memory SQLite database' : `the SQLite database ${file}`;
  try {
    if (file !== memoryPath) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // SQLite only says "unable to open database file" for a directory.
      if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
        throw new Error('it is a directory; DATABASE_URL must name a file');
      }
    }
    return SqliteDatabase.open(file, { onBackgroundError: (error) => logger.error({ err: error }, `SQLite: ${error.message}`) });
  } catch (error) {
    throw new StoreOpenError(`Cannot open ${where}: ${describe(error)}`, { cause: error });
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_CANTOPEN') return `${error.message} (check that the file and its directory are writable by this user)`;
  if (code === 'SQLITE_NOTADB') return `${error.message} (the file exists but is not a SQLite database)`;
  return error.message;
}
