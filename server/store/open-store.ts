/**
 * From `DATABASE_URL` to one `JobStore` per collection root. This is where a backend is
 * chosen, and where every reason it cannot be opened becomes a `StoreOpenError` whose message
 * the user reads as it is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createLogger, type Logger } from '../logger.ts';
import type { JobStore } from './job-store.ts';
import { openMongoStores } from './mongo/open-mongo.ts';
import { type ServerLeases, SoleServerLeases } from './server-leases.ts';
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
  /** Which servers share the database, and which one leads each duty. */
  leases: ServerLeases;
}

/** How the server opens its stores (tests give one of their own, e.g. an in-memory MongoDB). */
export type StoreOpener = (databaseUrl: string, roots: readonly string[], options: OpenStoresOptions) => Promise<OpenedStores>;

export interface OpenStoresOptions {
  logger?: Logger;
  /** MongoDB: how long to look for a reachable server (ms), and how long a server lease lasts (ms). */
  mongo?: { timeoutMs?: number; leaseMs?: number };
}

/** What a `DATABASE_URL` designates. */
export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; url: string };

const acceptedForms =
  'sqlite:./relative/path.db (relative to the working directory), sqlite:/absolute/path.db, ' +
  'sqlite::memory: (nothing kept after exit), or mongodb://… and mongodb+srv://…';

/**
 * Parses a `DATABASE_URL`. A sqlite path is resolved against the working directory; the URL
 * is never repeated in a message, since a MongoDB URL may carry a password.
 */
export function parseDatabaseUrl(databaseUrl: string): DatabaseLocation {
  const url = databaseUrl.trim();
  if (/^mongodb(\+srv)?:\/\//i.test(url)) return { kind: 'mongodb', url };
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
export async function openStores(databaseUrl: string, roots: readonly string[], options: OpenStoresOptions = {}): Promise<OpenedStores> {
  const location = parseDatabaseUrl(databaseUrl);
  const logger = options.logger ?? createLogger();
  if (location.kind === 'mongodb') {
    return openMongoStores(location.url, roots, {
      logger,
      ...(options.mongo?.timeoutMs === undefined ? {} : { serverSelectionTimeoutMs: options.mongo.timeoutMs }),
      ...(options.mongo?.leaseMs === undefined ? {} : { leases: leaseTimes(options.mongo.leaseMs) }),
    });
  }
  const database = openSqlite(location.path, logger);
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
    // The lock file makes this server the only one on the file.
    leases: new SoleServerLeases(),
    async close() {
      await Promise.all([...stores.values()].map((store) => store.close()));
      await database.close();
    },
    onCommitBatch(listener) {
      database.queue.onBatchDurable(listener);
    },
  };
}

/** A lease renewed five times per its length: a missed renewal or two never loses it. */
export function leaseTimes(leaseMs: number): { ttlMs: number; renewMs: number } {
  return { ttlMs: leaseMs, renewMs: Math.max(20, Math.floor(leaseMs / 5)) };
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
