// Live queries over real sockets (docs/PROTOCOL.md §7.6): subscriptions with the same filter
// share one observer and see what separate queries would; a late subscriber gets the current
// state; a limited window stays exactly the store's answer under inserts, updates and removals
// at its edge; the counts stay the store's counts; nothing a subscriber is owed is lost.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Job from 'meteor-job';
import type { JobFilter } from '../../server/store/job-store.ts';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

type Docs = Map<string, Record<string, unknown>>;

/** The documents of `collection` a client holds, replayed from the data messages it received. */
function view(client: RawDdpClient, collection: string): Docs {
  const docs: Docs = new Map();
  for (const message of client.received) {
    if (message.collection !== collection) continue;
    const id = message.id as string;
    const fields = (message.fields ?? {}) as Record<string, unknown>;
    if (message.msg === 'added') docs.set(id, { ...fields });
    else if (message.msg === 'changed') {
      const doc = docs.get(id);
      assert.ok(doc !== undefined, `changed before added: ${id}`);
      Object.assign(doc, fields);
      for (const key of (message.cleared ?? []) as string[]) delete doc[key];
    } else if (message.msg === 'removed') {
      assert.ok(docs.delete(id), `removed a document never added: ${id}`);
    }
  }
  return docs;
}

/** A method round trip on `client`: its `updated` comes once the client's subscriptions are current. */
async function settle(client: RawDdpClient): Promise<void> {
  const id = client.newId();
  client.send({ msg: 'method', id, method: 'queue_getJob', params: ['none'] });
  await client.nextMessage((m: DdpMessage) => m.msg === 'updated' && (m.methods as string[]).includes(id), 10_000);
}

describe('live queries', () => {
  let server: TestServer;
  let writer: RawDdpClient;
  const clients: RawDdpClient[] = [];

  beforeEach(async () => {
    server = await startTestServer();
    writer = await connect();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await server.stop();
  });

  async function connect(): Promise<RawDdpClient> {
    const client = await RawDdpClient.connect(server.url, { autoPong: true, timeoutMs: 10_000 });
    clients.push(client);
    return client;
  }
  const live = () => {
    const ctx = server.server.contexts.get('queue');
    assert.ok(ctx);
    return ctx;
  };
  const result = async (method: string, ...params: unknown[]) => {
    const answer = await writer.call(`queue_${method}`, params);
    assert.equal(answer.error, undefined, JSON.stringify(answer.error));
    return answer.result;
  };
  const save = async (type: string) => (await result('jobSave', new Job('queue', type, {}).doc)) as string;
  /** What the store answers for the filter, as the publication shows it: ids newest first. */
  const expected = async (filter: JobFilter, limit: number) =>
    (await live().store.list(filter, { limit, order: 'updated-desc' })).map((job) => job._id).sort();

  it('subscriptions with the same filter share one live query and see the same documents', async () => {
    const ids = [await save('shared'), await save('shared'), await save('other')];
    const subscribers = await Promise.all([1, 2, 3].map(() => connect()));
    for (const client of subscribers) assert.equal((await client.subscribe('queue.jobs', [{ type: 'shared', limit: 10 }])).msg, 'ready');
    const mixed = await connect();
    await mixed.subscribe('queue.jobs', [{ type: ['shared'], limit: 10 }]);
    await mixed.subscribe('queue.jobs', [{ limit: 10 }]);
    await result('jobPause', ids[0]);
    await result('jobCancel', ids[1]);
    await save('shared');
    for (const client of [...subscribers, mixed]) await settle(client);
    const want = await expected({ types: ['shared'] }, 10);
    for (const client of subscribers) assert.deepEqual([...view(client, 'queue.jobs').keys()].sort(), want);
    assert.deepEqual([...view(mixed, 'queue.jobs').keys()].sort(), await expected({}, 10));
  });

  it('a subscriber asking for a slower throttle is not sent a job that came and went between its batches', async () => {
    const quick = await connect();
    const slow = await connect();
    assert.equal((await quick.subscribe('queue.jobs', [{ limit: 1 }])).msg, 'ready');
    assert.equal((await slow.subscribe('queue.jobs', [{ limit: 1, throttleMs: 2000 }])).msg, 'ready');
    const addedTo = (client: RawDdpClient, id: string) =>
      client.nextMessage((m: DdpMessage) => m.msg === 'added' && m.collection === 'queue.jobs' && m.id === id, 10_000);
    // The first job is sent alone to the quick subscriber before the second replaces it.
    const first = await save('t');
    await addedTo(quick, first);
    const second = await save('t');
    await addedTo(quick, second);
    await addedTo(slow, second);
    assert.ok(!slow.received.some((m) => m.collection === 'queue.jobs' && m.id === first), 'the slow subscriber never saw the job that came and went');
    assert.deepEqual([...view(slow, 'queue.jobs').keys()], [second]);
    await assert.rejects(
      (async () => {
        const refused = await slow.subscribe('queue.jobs', [{ throttleMs: 60_000 }]);
        if (refused.msg === 'nosub') throw new Error(String((refused.error as { error: number }).error));
      })(),
      /400/,
    );
  });

  it('a subscriber that joins late gets the current state at once', async () => {
    const early = await connect();
    await early.subscribe('queue.jobs', [{ status: 'ready', limit: 5 }]);
    const id = await save('late');
    await result('jobPause', id);
    await save('late');
    const late = await connect();
    assert.equal((await late.subscribe('queue.jobs', [{ status: 'ready', limit: 5 }])).msg, 'ready');
    assert.deepEqual([...view(late, 'queue.jobs').keys()].sort(), await expected({ statuses: ['ready'] }, 5));
    await settle(early);
    assert.deepEqual(view(early, 'queue.jobs'), view(late, 'queue.jobs'));
  });

  it('a limited window stays exactly the store\'s answer under inserts, updates and removals at its edge', async () => {
    const client = await connect();
    const filter = { type: 'edge', status: ['ready', 'paused'], limit: 3 };
    await client.subscribe('queue.jobs', [filter]);
    const storeFilter: JobFilter = { types: ['edge'], statuses: ['ready', 'paused'] };
    const ids: string[] = [];
    // A fixed sequence that crosses the edge every way: fill, overflow, leave, return, remove.
    for (let step = 0; step < 40; step += 1) {
      const target = ids[(step * 7) % Math.max(ids.length, 1)];
      switch (step % 6) {
        case 0:
        case 1:
          ids.push(await save('edge'));
          break;
        case 2:
          await result('jobPause', target);
          break;
        case 3:
          await result('jobResume', target);
          break;
        case 4:
          await result('jobCancel', target);
          break;
        default:
          await result('jobRemove', target);
      }
      if (step % 5 === 4) {
        await settle(client);
        assert.deepEqual([...view(client, 'queue.jobs').keys()].sort(), await expected(storeFilter, 3), `after step ${step}`);
      }
    }
    await settle(client);
    const shown = view(client, 'queue.jobs');
    assert.deepEqual([...shown.keys()].sort(), await expected(storeFilter, 3));
    for (const [id, fields] of shown) {
      const [stored] = await live().store.getJobs([id]);
      assert.equal(fields.status, stored?.status);
      assert.deepEqual(fields.updated, stored?.updated);
    }
  });

  it('counts by deltas stay the store\'s counts; a type with no jobs left goes', async () => {
    const client = await connect();
    await client.subscribe('queue.stats');
    const a = await save('count-a');
    await save('count-a');
    const b = await save('count-b');
    await result('jobPause', a);
    await result('jobCancel', b);
    await result('jobRemove', b);
    const [claimed] = (await result('getWork', ['count-a'])) as { _id: string; runId: string }[];
    await result('jobDone', claimed?._id, claimed?.runId, {});
    await settle(client);
    const shown = view(client, 'queue.stats');
    const counts = await live().store.counts();
    assert.deepEqual([...shown.keys()].sort(), Object.keys(counts).sort());
    for (const [type, fields] of shown) {
      const byStatus = counts[type] ?? {};
      for (const status of ['waiting', 'paused', 'ready', 'running', 'failed', 'cancelled', 'completed'] as const) {
        assert.equal(fields[status], byStatus[status] ?? 0, `${type} ${status}`);
      }
    }
    assert.equal(shown.has('count-b'), false);
  });

  it('after a burst, every subscriber of every filter holds exactly what the store has', async () => {
    const filters = [{ limit: 50 }, { status: 'ready', limit: 20 }, { type: 'burst-1', limit: 1000 }, { status: ['completed', 'cancelled'], limit: 7 }];
    const subscribers: [RawDdpClient, (typeof filters)[number]][] = [];
    for (const filter of filters) {
      for (let i = 0; i < 3; i += 1) {
        const client = await connect();
        await client.subscribe('queue.jobs', [filter]);
        subscribers.push([client, filter]);
      }
    }
    const docs = Array.from({ length: 300 }, (_, i) => new Job('queue', `burst-${i % 3}`, { i }).doc);
    const saved = (await result('jobSaveMany', docs)) as string[];
    for (const batch of [0, 1, 2, 3]) {
      const claimed = (await result('getWork', ['burst-0', 'burst-1', 'burst-2'], { maxJobs: 40 })) as { _id: string; runId: string }[];
      for (const [i, job] of claimed.entries()) {
        if (i % 4 === batch % 4) await result('jobFail', job._id, job.runId, { value: 'no' }, { fatal: true });
        else await result('jobDone', job._id, job.runId, { i });
      }
    }
    await result('jobCancel', saved.slice(250));
    for (const [client, filter] of subscribers) {
      await settle(client);
      const storeFilter: JobFilter = {
        ...(filter.status === undefined ? {} : { statuses: (Array.isArray(filter.status) ? filter.status : [filter.status]) as JobFilter['statuses'] }),
        ...(filter.type === undefined ? {} : { types: [filter.type] }),
      };
      assert.deepEqual([...view(client, 'queue.jobs').keys()].sort(), await expected(storeFilter, filter.limit), JSON.stringify(filter));
    }
  });
});
