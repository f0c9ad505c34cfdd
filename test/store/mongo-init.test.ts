// The mongosh scripts of mongo-init/, run in a sandbox that records what they ask of mongosh:
// no MongoDB server runs on the build machines, so this is how they are checked here (the CI
// workflow also runs them against a real one). The index script must create exactly the
// indexes the store creates itself.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import { rootIndexes } from '../../server/store/mongo/indexes.ts';

const script = (name: string) => readFileSync(new URL(`../../mongo-init/${name}`, import.meta.url), 'utf8');

describe('mongo-init scripts', () => {
  it('02-indexes.js prepares every root with the indexes the store creates', () => {
    const created: { collection: string; keys: unknown; options: Record<string, unknown> }[] = [];
    const commands: unknown[] = [];
    const collections = ['queue.jobs'];
    const db = {
      getCollectionNames: () => [...collections],
      createCollection: (name: string) => void collections.push(name),
      runCommand: (command: unknown) => void commands.push(command),
      getCollection: (collection: string) => ({
        // jobCollection's own index on queue.jobs, under its name: the same keys are not made twice.
        getIndexes: () => (collection === 'queue.jobs' ? [{ key: { _id: 1 }, name: '_id_' }, { key: { type: 1, status: 1 }, name: 'type_1_status_1' }] : []),
        createIndex: (keys: unknown, options: Record<string, unknown>) => void created.push({ collection, keys, options }),
      }),
    };
    vm.runInNewContext(script('02-indexes.js'), { db, print: () => undefined, process: { env: { CUMULUS_COLLECTIONS: 'queue, mail' } } });

    assert.deepEqual(collections.sort(), ['mail.analytics', 'mail.chains', 'mail.jobs', 'queue.analytics', 'queue.chains', 'queue.jobs']);
    assert.equal(
      JSON.stringify(commands),
      JSON.stringify([
        { collMod: 'queue.jobs', changeStreamPreAndPostImages: { enabled: true } },
        { collMod: 'mail.jobs', changeStreamPreAndPostImages: { enabled: true } },
      ]),
    );
    for (const root of ['queue', 'mail']) {
      const made = created.filter((index) => index.collection.startsWith(`${root}.`));
      const wanted = root === 'queue' ? rootIndexes.filter((index) => index.name !== 'type_status') : rootIndexes;
      const expected = wanted.map((index) => ({
        collection: `${root}.${index.collection}`,
        keys: index.keys,
        options: { name: index.name, ...(index.partialFilterExpression === undefined ? {} : { partialFilterExpression: index.partialFilterExpression }) },
      }));
      // Compared as JSON: the sandbox's objects have another realm's prototypes.
      assert.equal(JSON.stringify(made), JSON.stringify(expected), root);
    }
    assert.ok(created.some((index) => index.collection === 'cumulus.servers' && index.options.expireAfterSeconds === 3600));
  });

  it('01-replica-set.js initiates a set only when there is none, then waits for a primary', () => {
    const run = (initiated: boolean) => {
      const calls: unknown[] = [];
      let hellos = 0;
      const rs = {
        status: () => {
          if (!initiated) throw new Error('no replset config has been received');
          return { set: 'rs0' };
        },
        initiate: (config: unknown) => void calls.push(config),
      };
      const db = { hello: () => ({ isWritablePrimary: (hellos += 1) > 2 }) };
      vm.runInNewContext(script('01-replica-set.js'), { rs, db, print: () => undefined, sleep: () => undefined, process: { env: { MONGO_HOST: 'mongo:27017' } } });
      return { calls: JSON.stringify(calls), hellos };
    };
    assert.deepEqual(run(false), { calls: JSON.stringify([{ _id: 'rs0', members: [{ _id: 0, host: 'mongo:27017' }] }]), hellos: 3 });
    assert.deepEqual(run(true), { calls: '[]', hellos: 3 });
  });
});
