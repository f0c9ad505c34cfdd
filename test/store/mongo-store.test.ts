/**
 * The MongoDB store: the shared conformance suite, then what only it has — several servers'
 * transactions on the same jobs, other writers' changes through the change stream, documents
 * that are not jobs, an unreachable database, opening errors. Runs on the in-memory backend
 * (test/helpers/memory-mongo.ts) and, when `MONGO_URL` names a replica set, the conformance
 * suite runs on that real server too.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { createLogger } from '../../server/logger.ts';
import type { JobChange, JobStore } from '../../server/store/job-store.ts';
import { MongoJobStore } from '../../server/store/mongo/mongo-job-store.ts';
import { databaseName, openMongoStores, openMongoStoresOn } from '../../server/store/mongo/open-mongo.ts';
import { StoreOpenError } from '../../server/store/store-open-error.ts';
import { StoreUnavailableError } from '../../server/store/store-unavailable-error.ts';
import { randomId } from '../../shared/random-id.ts';
import { makeJob } from '../helpers/job-fixtures.ts';
import { MemoryMongo, type MemoryMongoClient } from '../helpers/memory-mongo.ts';
import { realMongoUrl, withDatabase } from '../helpers/shared-mongo.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { describeJobStoreConformance } from './job-store-conformance.ts';

const silent = createLogger('silent');

describeJobStoreConformance('mongodb (in memory)', async () => {
  const client = new MemoryMongo().client();
  const store = new MongoJobStore(client, client.db('cumulus'), 'queue', { logger: silent });
  return {
    store,
    async close() {
      await store.close();
      await client.close();
    },
  };
});

const mongoUrl = realMongoUrl;
if (mongoUrl !== undefined) {
  describeJobStoreConformance('mongodb (MONGO_URL)', async () => {
    const url = withDatabase(mongoUrl, `cumulus_test_${randomId(8)}`);
    const opened = await openMongoStores(url, ['queue'], { logger: silent });
    const store = opened.stores.get('queue') as JobStore;
    return {
      store,
      async close() {
        await opened.close();
        const client = new MongoClient(url);
        await client.db().dropDatabase();
        await client.close();
      },
    };
  });
}

/** Records what a logger writes, parsed. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('MongoDB store (in-memory backend)', () => {
  let memory: MemoryMongo;
  const opened: { store: MongoJobStore; client: MemoryMongoClient }[] = [];

  beforeEach(async () => {
    memory = new MemoryMongo();
    // What opening the stores does on a real server (see 'opening' below).
    await memory.client().db('cumulus').command({ collMod: 'queue.jobs', changeStreamPreAndPostImages: { enabled: true } });
  });

  afterEach(async () => {
    for (const { client } of opened) client.setReachable(true);
    for (const { store, client } of opened.splice(0)) {
      await store.close();
      await client.close();
    }
  });

  /** A store of root `queue` as one more server would open it. */
  const open = (options: ConstructorParameters<typeof MongoJobStore>[3] = {}) => {
    const client = memory.client();
    const store = new MongoJobStore(client, client.db('cumulus'), 'queue', { logger: silent, reopenDelayMs: 10, changeStreamImages: true, ...options });
    opened.push({ store, client });
    return { store, client };
  };

  describe('two servers on the same jobs', () => {
    it('hands a ready job to one of two concurrent claims, and the other takes the next', async () => {
      const a = open().store;
      const b = open().store;
      const first = makeJob({ type: 'c', status: 'ready', priority: -1 });
      const second = makeJob({ type: 'c', status: 'ready' });
      await a.transaction(async (tx) => {
        await tx.insert(first, []);
        await tx.insert(second, []);
      });
      let runs = 0;
      const claim = (store: MongoJobStore, runId: string) =>
        store.transaction(async (tx) => {
          runs += 1;
          const [job] = await tx.nextReady(['c'], 1);
          if (job === undefined) return undefined;
          return (await tx.update(job._id, { status: 'running', runId }, { statuses: ['ready'], runId: null })) ? job._id : undefined;
        });
      const claimed = await Promise.all([claim(a, 'run-a'), claim(b, 'run-b')]);
      assert.deepEqual([...claimed].sort(), [first._id, second._id].sort());
      assert.ok(runs >= 2);
      const stored = await a.getJobs([first._id, second._id]);
      assert.deepEqual(new Set(stored.map((job) => job.runId)), new Set(['run-a', 'run-b']));
    });

    it("tells each server's listeners of the other's commits once, with the status before and after", async () => {
      const a = open().store;
      const b = open().store;
      const seenByA: JobChange[] = [];
      const seenByB: JobChange[] = [];
      a.onCommit((changes) => seenByA.push(...changes));
      b.onCommit((changes) => seenByB.push(...changes));
      const job = makeJob({ type: 'w' });
      await a.transaction((tx) => tx.insert(job, []));
      await b.transaction(async (tx) => {
        await tx.update(job._id, { status: 'ready' });
        await tx.update(job._id, { status: 'running', runId: 'r' });
      });
      const summary = (changes: JobChange[]) => changes.map(({ previousStatus, status }) => `${previousStatus}→${status}`).sort();
      await waitFor(() => seenByA.length === 2 && seenByB.length === 2, { description: 'both changes on both servers' });
      assert.deepEqual(summary(seenByA), ['null→waiting', 'waiting→running']);
      // B may hear of A's insert after its own update: it is told, without the older document.
      assert.deepEqual(summary(seenByB), ['null→waiting', 'waiting→running']);
      assert.equal(seenByA[1]?.doc?.runId, 'r', 'the change carries the job as it became');
      const insertSeenByB = seenByB.find((change) => change.previousStatus === null);
      if (seenByB[0] !== insertSeenByB) assert.equal(insertSeenByB?.doc, undefined, 'a late, older state comes without its document');
    });

    it('catches up on the changes made while its change stream was down', async () => {
      const a = open().store;
      const b = open().store;
      const seenByB: string[] = [];
      b.onCommit((changes) => seenByB.push(...changes.map((change) => change.id)));
      const before = makeJob();
      await a.transaction((tx) => tx.insert(before, []));
      await waitFor(() => seenByB.length === 1, { description: 'the first change' });
      memory.failChangeStreams();
      const during = [makeJob(), makeJob()];
      await a.transaction(async (tx) => {
        for (const job of during) await tx.insert(job, []);
      });
      await waitFor(() => seenByB.length === 3, { description: 'the changes made while the stream was down' });
      assert.deepEqual(seenByB, [before._id, ...during.map((job) => job._id)]);
      assert.ok(b.changeStreamReopens >= 1);

      // Ended by the server without an error: followed again all the same.
      memory.endChangeStreams();
      const after = makeJob();
      await a.transaction((tx) => tx.insert(after, []));
      await waitFor(() => seenByB.length === 4, { description: 'the change made after the stream ended' });
      assert.equal(seenByB[3], after._id);
    });
  });

  describe("a Meteor app's documents", () => {
    it('skips a document that is not a job, once reported, and claims the jobs behind it', async () => {
      const { logger, lines } = capturingLogger();
      const { store } = open({ logger });
      // A job in every other respect, at the head of the claim order, but its data is text.
      const { _id: _unused, ...fields } = makeJob({ type: 'm', status: 'ready', priority: -100 });
      await memory.client().db('cumulus').collection('queue.jobs').insertOne({ _id: 'broken', ...fields, data: 'text', _seq: 0 });
      const good = makeJob({ type: 'm', status: 'ready' });
      await store.transaction((tx) => tx.insert(good, []));
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const ready = await store.transaction((tx) => tx.nextReady(['m'], 1));
        assert.deepEqual(ready.map((job) => job._id), [good._id]);
      }
      assert.deepEqual(await store.getJobs(['broken']), []);
      const warnings = lines.filter((line) => line.jobId === 'broken');
      assert.equal(warnings.length, 1, 'reported once');
      assert.match(String(warnings[0]?.problem), /^data: /);
    });
  });

  describe('an unreachable database', () => {
    it('answers 503 after a few attempts, writes nothing, and works again once it is back', async () => {
      const { store, client } = open({ commits: { maxAttempts: 3, retryDelayMs: 1 } });
      const job = makeJob();
      client.setReachable(false);
      const refusal = await store.transaction((tx) => tx.insert(job, [])).then(
        () => assert.fail('the transaction should be refused'),
        (error: unknown) => error,
      );
      assert.ok(refusal instanceof StoreUnavailableError);
      assert.equal(refusal.error, 503);
      assert.match(String(refusal.details), /nothing of this call was saved/);
      await assert.rejects(store.getJobs([job._id]), (error: unknown) => error instanceof StoreUnavailableError && /cut off/.test(String(error.details)));
      client.setReachable(true);
      assert.deepEqual(await store.getJobs([job._id]), []);
      await store.transaction((tx) => tx.insert(job, []));
      assert.equal((await store.getJobs([job._id])).length, 1);
    });
  });

  describe('opening', () => {
    it('creates the indexes and turns on pre- and post-images for the change stream', async () => {
      const client = memory.client();
      const stores = await openMongoStoresOn(client, client.db('cumulus'), ['queue'], { logger: silent });
      await stores.close();
      const names = memory.indexes('cumulus', 'queue.jobs').map((index) => index.name);
      assert.deepEqual(names.sort(), ['children', 'claim', 'created', 'depends', 'expire', 'newest', 'priority', 'promote', 'recent', 'type_status', 'words'].sort());
      assert.deepEqual(memory.indexes('cumulus', 'queue.chains').map((index) => index.name), ['parent']);
    });

    it("keeps an index a Meteor app made on the same keys, under its own name", async () => {
      const client = memory.client();
      await client.db('cumulus').collection('queue.jobs').createIndex({ type: 1, status: 1 });
      const stores = await openMongoStoresOn(client, client.db('cumulus'), ['queue'], { logger: silent });
      await stores.close();
      const names = memory.indexes('cumulus', 'queue.jobs').map((index) => index.name);
      assert.ok(names.includes('type_1_status_1'));
      assert.ok(!names.includes('type_status'));
      assert.ok(names.includes('claim'));
    });

    it('refuses a standalone server with what to do', async () => {
      memory.replicaSet = false;
      const client = memory.client();
      await assert.rejects(
        openMongoStoresOn(client, client.db('cumulus'), ['queue'], { logger: silent, where: 'db.example:27017' }),
        (error: unknown) => error instanceof StoreOpenError && /db\.example:27017 is a standalone server.*--replSet/s.test(error.message),
      );
    });

    it('names the hosts of an unreachable server, never the password, within the timeout', async () => {
      const started = Date.now();
      await assert.rejects(
        openMongoStores('mongodb://cumulus:s3cret-pw@127.0.0.1:9/jobs?replicaSet=rs0', ['queue'], { logger: silent, serverSelectionTimeoutMs: 300 }),
        (error: unknown) =>
          error instanceof StoreOpenError && /Cannot use MongoDB at 127\.0\.0\.1:9/.test(error.message) && !error.message.includes('s3cret-pw'),
      );
      assert.ok(Date.now() - started < 5000);
    });

    it('refuses a malformed URL without repeating it', async () => {
      await assert.rejects(
        openMongoStores('mongodb://user:s3cret-pw@', ['queue'], { logger: silent }),
        (error: unknown) => error instanceof StoreOpenError && /not a usable MongoDB URL/.test(error.message) && !error.message.includes('s3cret-pw'),
      );
    });

    it('uses the database the URL names, or "cumulus"', () => {
      assert.equal(databaseName('mongodb://h1:27017,h2:27017/jobs?replicaSet=rs0'), 'jobs');
      assert.equal(databaseName('mongodb+srv://u:p@cluster.example.net/?retryWrites=true'), 'cumulus');
      assert.equal(databaseName('mongodb://localhost'), 'cumulus');
    });
  });
});
