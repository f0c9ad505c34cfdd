// Live job documents and queue statistics over DDP publications, seen by real clients.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Job from 'meteor-job';
import { RawDdpClient } from '../helpers/raw-ddp-client.ts';
import { connectSimpleDdp, type SimpleDDP } from '../helpers/simpleddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const patience = { timeoutMs: 10_000 };
type JobFields = { id: string; type: string; status: string; data: Record<string, unknown> };
type StatsFields = { id: string; type: string; total: number } & Record<string, number>;

describe('publications', () => {
  let server: TestServer;
  let client: SimpleDDP;

  beforeEach(async () => {
    server = await startTestServer();
    client = await connectSimpleDdp(server.wsUrl);
  });
  afterEach(async () => {
    await client.disconnect();
    await server.stop();
  });

  const save = async (type: string, data: Record<string, unknown> = {}) => (await client.call('queue_jobSave', new Job('queue', type, data).doc)) as string;

  it('<root>.jobs shows live documents matching a typed filter', async () => {
    await save('other');
    const sub = client.sub('queue.jobs', [{ type: 'mail', status: ['ready', 'running', 'completed'] }]);
    await sub.ready();
    const jobs = client.collection<JobFields>('queue.jobs');
    assert.deepEqual(jobs.fetch(), []);
    const id = await save('mail', { to: 'x' });
    await waitFor(() => jobs.fetch().some((j) => j.id === id && j.status === 'ready'), patience);
    const [claimed] = (await client.call('queue_getWork', 'mail')) as { _id: string; runId: string }[];
    assert.equal(claimed?._id, id);
    await waitFor(() => jobs.fetch().find((j) => j.id === id)?.status === 'running', patience);
    await client.call('queue_jobDone', id, claimed.runId, { ok: true });
    await waitFor(() => jobs.fetch().find((j) => j.id === id)?.status === 'completed', patience);
    const doc = jobs.fetch().find((j) => j.id === id) as JobFields & { result?: unknown; log?: unknown };
    assert.deepEqual(doc.data, { to: 'x' });
    assert.deepEqual(doc.result, { ok: true });
    assert.equal(doc.log, undefined, 'logs are not published in lists');
    assert.ok(jobs.fetch().every((j) => j.type === 'mail'), 'other types are filtered out');
    await sub.stop();
  });

  it('<root>.jobs removes a document that leaves the filter, and honours the limit', async () => {
    const ids = [await save('lim'), await save('lim'), await save('lim')];
    const raw = await RawDdpClient.connect(server.url, { autoPong: true });
    try {
      const ready = await raw.subscribe('queue.jobs', [{ type: 'lim', status: 'ready', limit: 2 }]);
      assert.equal(ready.msg, 'ready');
      const added = raw.received.filter((m) => m.msg === 'added' && m.collection === 'queue.jobs');
      assert.equal(added.length, 2, 'limit 2');
      const shown = added.map((m) => m.id as string);
      const [victim] = shown;
      await client.call('queue_jobPause', victim);
      await raw.nextMessage((m) => m.msg === 'removed' && m.id === victim, 10_000);
      // The third job now fits under the limit.
      const hidden = ids.find((id) => !shown.includes(id));
      await raw.nextMessage((m) => m.msg === 'added' && m.id === hidden, 10_000);
    } finally {
      await raw.close();
    }
  });

  it('<root>.stats counts jobs per type and status', async () => {
    const sub = client.sub('queue.stats');
    await sub.ready();
    const stats = client.collection<StatsFields>('queue.stats');
    await save('count');
    const second = await save('count');
    await client.call('queue_jobPause', second);
    await waitFor(() => {
      const doc = stats.fetch().find((s) => s.id === 'count');
      return doc?.ready === 1 && doc.paused === 1 && doc.total === 2;
    }, patience);
    const doc = stats.fetch().find((s) => s.id === 'count');
    assert.equal(doc?.type, 'count');
    assert.equal(doc?.completed, 0);
    await sub.stop();
  });

  it('answers a malformed filter with a 400 nosub', async () => {
    const raw = await RawDdpClient.connect(server.url, { autoPong: true });
    try {
      const answer = await raw.subscribe('queue.jobs', [{ status: 'sleeping' }]);
      assert.equal(answer.msg, 'nosub');
      assert.equal((answer.error as { error: number }).error, 400);
      assert.equal((await raw.subscribe('queue.jobs', [{ limit: 5000 }])).msg, 'nosub');
      assert.equal((await raw.subscribe('queue.nothing')).msg, 'nosub');
    } finally {
      await raw.close();
    }
  });

  it('throttles a burst of writes into a bounded number of messages', async () => {
    const throttleMs = 20; // startTestServer's publication throttle
    const raw = await RawDdpClient.connect(server.url, { autoPong: true });
    try {
      assert.equal((await raw.subscribe('queue.stats')).msg, 'ready');
      const writes = 200;
      const started = Date.now();
      await Promise.all(Array.from({ length: writes }, () => save('burst')));
      const elapsed = Date.now() - started;
      await waitFor(() => raw.received.some((m) => m.collection === 'queue.stats' && m.id === 'burst' && (m.fields as { total?: number } | undefined)?.total === writes), patience);
      const messages = raw.received.filter((m) => m.collection === 'queue.stats' && m.id === 'burst').length;
      // At most one refresh per throttle interval while the burst lasts, plus the last one.
      const bound = Math.ceil(elapsed / throttleMs) + 2;
      assert.ok(messages <= bound, `${messages} messages for ${writes} writes in ${elapsed} ms (bound ${bound})`);
      assert.ok(messages < writes / 2, `${messages} messages is well under one per write`);
    } finally {
      await raw.close();
    }
  });
});
