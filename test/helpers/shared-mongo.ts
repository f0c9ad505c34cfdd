/**
 * One MongoDB database for the servers of a test: the in-memory backend by default, or, when
 * `MONGO_URL` names a real replica set (as in the CI workflow), a fresh database on it that is
 * dropped afterwards. `opener()` is what a server is given to open its stores on it.
 */
import { createLogger } from '../../server/logger.ts';
import type { StoreOpener } from '../../server/store/open-store.ts';
import { openMongoStores, openMongoStoresOn } from '../../server/store/mongo/open-mongo.ts';
import type { MongoLeaseOptions } from '../../server/store/mongo/mongo-leases.ts';
import { type Document, MongoClient } from 'mongodb';
import { randomId } from '../../shared/random-id.ts';
import { MemoryMongo, type MemoryMongoClient } from './memory-mongo.ts';

export interface SharedMongo {
  /** Opens the stores of one more server on the shared database. */
  opener(options?: { leases?: Partial<MongoLeaseOptions> }): StoreOpener;
  /** The in-memory backend, for fault injection; undefined against a real server. */
  memory: MemoryMongo | undefined;
  /** The in-memory clients made by `opener()`, one per server, in order (none against a real server). */
  clients: MemoryMongoClient[];
  /** Writes documents straight into a collection, as another application would. */
  insertRaw(collection: string, docs: Document[]): Promise<void>;
  /** Creates an index straight on a collection, as another application would. */
  createIndexRaw(collection: string, keys: Document): Promise<void>;
  /** A document as stored, read straight from the collection. */
  findRaw(collection: string, id: string): Promise<Document | null>;
  /** Drops the test database (real server). */
  close(): Promise<void>;
}

/** The real server's URL, if the tests are to run against one. */
export const realMongoUrl = process.env.MONGO_URL?.trim() || undefined;

/** `url` naming database `name` instead of the one it names, if any. */
export function withDatabase(url: string, name: string): string {
  return url.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]+)(\/[^?]*)?/i, `$1/${name}`);
}

export function sharedMongo(): SharedMongo {
  if (realMongoUrl === undefined) {
    const memory = new MemoryMongo();
    const clients: MemoryMongoClient[] = [];
    return {
      memory,
      clients,
      opener: (options = {}) => async (_url, roots, { logger }) => {
        const client = memory.client();
        clients.push(client);
        return openMongoStoresOn(client, client.db('cumulus'), roots, {
          logger: logger ?? createLogger('silent'),
          ...(options.leases === undefined ? {} : { leases: options.leases }),
        });
      },
      async insertRaw(collection, docs) {
        for (const doc of docs) await memory.client().db('cumulus').collection(collection).insertOne(doc);
      },
      findRaw: (collection, id) => memory.client().db('cumulus').collection(collection).findOne({ _id: id }),
      createIndexRaw: async (collection, keys) => void (await memory.client().db('cumulus').collection(collection).createIndex(keys)),
      close: async () => undefined,
    };
  }
  const direct = async <T>(use: (client: MongoClient) => Promise<T>): Promise<T> => {
    const client = new MongoClient(url);
    try {
      return await use(client);
    } finally {
      await client.close();
    }
  };
  const url = withDatabase(realMongoUrl, `cumulus_test_${randomId(8)}`);
  return {
    memory: undefined,
    clients: [],
    opener: (options = {}) => (_url, roots, { logger }) =>
      openMongoStores(url, roots, {
        logger: logger ?? createLogger('silent'),
        ...(options.leases === undefined ? {} : { leases: options.leases }),
      }),
    insertRaw: (collection, docs) => direct(async (client) => void (await client.db().collection(collection).insertMany(docs))),
    findRaw: (collection, id) => direct((client) => client.db().collection(collection).findOne({ _id: id as never })),
    createIndexRaw: (collection, keys) => direct(async (client) => void (await client.db().collection(collection).createIndex(keys))),
    close: () => direct(async (client) => void (await client.db().dropDatabase())),
  };
}
