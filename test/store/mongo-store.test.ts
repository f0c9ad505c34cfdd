/**
 * The MongoDB store's behaviour, run here against the in-memory backend (test/helpers/
 * memory-mongo.ts) and, when `MONGO_URL` names a replica set, against that real server too.
 */
import { describe } from 'node:test';
import { MongoJobStore } from '../../server/store/mongo/mongo-job-store.ts';
import { MemoryMongo } from '../helpers/memory-mongo.ts';
import { createLogger } from '../../server/logger.ts';
import { describeJobStoreConformance } from './job-store-conformance.ts';

describe('MongoDB store (in-memory backend)', () => {
  describeJobStoreConformance('mongodb (in memory)', async () => {
    const client = new MemoryMongo().client();
    const store = new MongoJobStore(client, client.db('cumulus'), 'queue', { logger: createLogger('silent') });
    return {
      store,
      async close() {
        await store.close();
        await client.close();
      },
    };
  });
});
