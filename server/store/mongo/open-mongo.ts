/**
 * From a `mongodb://` URL to the stores of each collection root: connects (a clear error
 * naming the hosts, never the password, within the selection timeout), checks that the
 * deployment can run transactions and change streams, prepares each root's collections
 * (indexes, change-stream pre- and post-images), and takes this server's lease.
 */
import { MongoClient, type Document } from 'mongodb';
import type { Logger } from '../../logger.ts';
import type { OpenedStores } from '../open-store.ts';
import { StoreOpenError } from '../store-open-error.ts';
import { type IndexSpec, rootIndexes } from './indexes.ts';
import type { ClientLike, DbLike } from './mongo-api.ts';
import { MongoJobStore, type MongoJobStoreOptions } from './mongo-job-store.ts';
import { type MongoLeaseOptions, MongoServerLeases } from './mongo-leases.ts';

export interface MongoOpenOptions {
  logger: Logger;
  /** How long to look for a reachable server at start (and per operation later), in ms. */
  serverSelectionTimeoutMs?: number;
  leases?: Partial<MongoLeaseOptions>;
  store?: Omit<MongoJobStoreOptions, 'logger' | 'onCommitBatch'>;
}

const defaultDatabase = 'cumulus';

export async function openMongoStores(url: string, roots: readonly string[], options: MongoOpenOptions): Promise<OpenedStores> {
  let client: MongoClient;
  try {
    client = new MongoClient(url, {
      appName: 'cumulus',
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
      retryWrites: true,
      retryReads: true,
      writeConcern: { w: 'majority' },
      readConcern: { level: 'majority' },
      ignoreUndefined: true,
    });
  } catch (error) {
    throw new StoreOpenError(`DATABASE_URL is not a usable MongoDB URL: ${scrub(error, undefined)}`, { cause: error });
  }
  const password = client.options.credentials?.password;
  const where = client.options.srvHost ?? client.options.hosts.map((host) => host.toString()).join(',');
  try {
    await client.connect();
    return await openMongoStoresOn(client, client.db(databaseName(url)), roots, { ...options, where });
  } catch (error) {
    await client.close().catch(() => undefined);
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(`Cannot use MongoDB at ${where}: ${scrub(error, password)}`, { cause: error });
  }
}

/** The stores of `db` through an open client (the real driver's, or the tests' in-memory one). */
export async function openMongoStoresOn(
  client: ClientLike,
  db: DbLike,
  roots: readonly string[],
  options: MongoOpenOptions & { where?: string },
): Promise<OpenedStores> {
  const { logger } = options;
  const hello = await db.command({ hello: 1 });
  if (typeof hello.setName !== 'string' && hello.msg !== 'isdbgrid') {
    throw new StoreOpenError(
      `MongoDB at ${options.where ?? 'the given address'} is a standalone server. Cumulus needs a replica set: its ` +
        'transactions keep a job from being half written, and its change streams carry wake-ups between servers. A ' +
        'one-member replica set is enough: start mongod with --replSet rs0 and run mongo-init/01-replica-set.js ' +
        '(see "Scaling out" in the README).',
    );
  }
  const images = new Map<string, boolean>();
  for (const root of new Set(roots)) images.set(root, await prepareRoot(db, root, logger));
  const leases = new MongoServerLeases(db, logger, options.leases);
  await leases.start();
  const batchListeners: ((transactions: number, seconds: number) => void)[] = [];
  const stores = new Map<string, MongoJobStore>();
  for (const root of new Set(roots)) {
    stores.set(
      root,
      new MongoJobStore(client, db, root, {
        ...options.store,
        changeStreamImages: images.get(root) === true,
        logger: logger.child({ root }),
        onCommitBatch: (transactions, seconds) => batchListeners.forEach((listener) => listener(transactions, seconds)),
      }),
    );
  }
  return {
    stores,
    leases,
    async close() {
      await Promise.all([...stores.values()].map((store) => store.close()));
      await leases.close();
      await client.close();
    },
    onCommitBatch(listener) {
      batchListeners.push(listener);
    },
  };
}

/**
 * Creates the root's collections if missing, turns on pre- and post-images for change
 * streams (MongoDB 6.0+; without them other servers' changes reach live views with their
 * previous status unknown), and creates the indexes. Answers whether the images are on.
 */
async function prepareRoot(db: DbLike, root: string, logger: Logger): Promise<boolean> {
  for (const name of [`${root}.jobs`, `${root}.chains`, `${root}.analytics`]) {
    try {
      await db.command({ create: name });
    } catch (error) {
      // NamespaceExists: a Meteor app's collection, or an earlier start's.
      if ((error as { code?: unknown }).code !== 48) throw error;
    }
  }
  let images = true;
  try {
    await db.command({ collMod: `${root}.jobs`, changeStreamPreAndPostImages: { enabled: true } });
  } catch (error) {
    images = false;
    logger.warn(
      { err: error, collection: `${root}.jobs` },
      'could not enable change-stream pre- and post-images (MongoDB 6.0+ and the collMod privilege are needed); ' +
        "other servers' changes reach live views with less detail",
    );
  }
  for (const index of rootIndexes) {
    const collection = db.collection(`${root}.${index.collection}`);
    // An index with the same keys under another name (jobCollection makes `type_1_status_1`)
    // serves as well, and MongoDB refuses a second one.
    const existing = await collection.indexes();
    if (existing.some((other) => sameIndex(other, index))) continue;
    const spec: Document = { name: index.name };
    if (index.partialFilterExpression !== undefined) spec.partialFilterExpression = index.partialFilterExpression;
    await collection.createIndex(index.keys, spec);
  }
  return images;
}

/** Whether an existing index has the keys (in order) and the partial filter of `index`. */
function sameIndex(existing: Document, index: IndexSpec): boolean {
  return JSON.stringify(existing.key) === JSON.stringify(index.keys) && JSON.stringify(existing.partialFilterExpression) === JSON.stringify(index.partialFilterExpression);
}

/** The database the URL names (`mongodb://host/name`), `cumulus` when it names none. */
export function databaseName(url: string): string {
  const path = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/i.exec(url)?.[1] ?? '';
  return path === '' ? defaultDatabase : decodeURIComponent(path);
}

/** An error's message without the password, should the driver have repeated it. */
function scrub(error: unknown, password: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  return password === undefined || password === '' ? message : message.split(password).join('***');
}
