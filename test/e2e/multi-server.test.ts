// Several Cumulus servers on one MongoDB database, each a real server with real DDP clients:
// a job saved through one wakes a worker waiting on another; two servers claiming at once
// never hand out the same job; one server leads the promotion loop and another takes over
// when it is cut off; the running jobs of a server that is gone are requeued, a live one's
// never. Runs on the in-memory MongoDB, or on the replica set named by MONGO_URL (the tests
// that cut a server off need the in-memory one).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, type TestContext } from 'node:test';
import Job from 'meteor-job';
import type { ConfigVariable } from '../../server/config.ts';
import type { JobDoc } from '../../shared/job-doc.ts';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { sharedMongo, type SharedMongo } from '../helpers/shared-mongo.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const patience = { timeoutMs: 15_000 };
/**
 * Short leases, so that a server cut off is gone within seconds, yet long beside the small
 * stalls a busy test machine gives a live server.
 */
const shortLeases = { ttlMs: 1500, renewMs: 150 };
/**
 * The default leases, for tests that keep the servers busy: the in-memory backend scans on the
 * event loop, and a server that cannot renew its lease in time is taken for gone, its jobs
 * requeued (as it should be: a real server stalled that long is indistinguishable from a dead one).
 */
const defaultLeases = { ttlMs: 10_000, renewMs: 2_000 };

function resultOf(message: DdpMessage): unknown {
  assert.equal(message.error, undefined, `unexpected error ${JSON.stringify(message.error)}`);
  return message.result;
}

describe('several servers on one MongoDB database', () => {
  let mongo: SharedMongo;
  const servers: TestServer[] = [];
  const clients: RawDdpClient[] = [];

  beforeEach(() => {
    mongo = sharedMongo();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    // A server cut off from the database cannot give up its lease: let it reach it to stop.
    for (const client of mongo.clients) client.setReachable(true);
    for (const server of servers.splice(0)) await server.stop();
    await mongo.close();
  });

  const start = async (env: Partial<Record<ConfigVariable, string>> = {}, leases = shortLeases) => {
    const server = await startTestServer({ CUMULUS_REQUEUE_GRACE_MS: '300', ...env }, { openStores: mongo.opener({ leases }) });
    servers.push(server);
    return server;
  };
  const connect = async (server: TestServer) => {
    const client = await RawDdpClient.connect(server.url, { timeoutMs: 30_000, autoPong: true });
    clients.push(client);
    return client;
  };
  const save = async (client: RawDdpClient, job: Job) => {
    const id = resultOf(await client.call('queue_jobSave', [job.doc, {}]));
    assert.equal(typeof id, 'string');
    return id as string;
  };
  const getJob = async (client: RawDdpClient, id: string) => resultOf(await client.call('queue_getJob', [id, { getLog: true }])) as JobDoc;
  const contextOf = (server: TestServer) => {
    const ctx = server.server.contexts.get('queue');
    assert.ok(ctx !== undefined);
    return ctx;
  };
  /** The server holding the promotion lease of `queue`, as the lease document says. */
  const leaderOf = async (among: readonly TestServer[]) => {
    const holders = await Promise.all(among.map(async (server) => ((await isLeader(server)) ? server : undefined)));
    return holders.filter((server) => server !== undefined);
  };
  const isLeader = async (server: TestServer) => {
    const docs = mongo.memory?.documents('cumulus', 'cumulus.leases') ?? [];
    const lease = docs.find((doc) => doc._id === 'scheduler:queue');
    return lease?.holder === contextOf(server).serverId && (lease.expiresAt as Date).getTime() > Date.now();
  };

  it('wakes a worker waiting on one server when a job is saved through another', async (t: TestContext) => {
    const [a, b] = [await start(), await start()];
    const [viaA, viaB] = [await connect(a), await connect(b)];
    const delays: number[] = [];
    for (let round = 0; round < 10; round += 1) {
      const waiting = viaB.call('queue_getWork', [['wake'], { waitMs: 20_000 }]);
      await waitFor(() => contextOf(b).dispatcher.size === 1, { description: 'the getWork waiting on B' });
      const id = await save(viaA, new Job('queue', 'wake', { round }));
      const answeredAt = performance.now();
      const [job] = resultOf(await waiting) as JobDoc[];
      delays.push(performance.now() - answeredAt);
      assert.equal(job?._id, id);
      assert.deepEqual(job.data, { round });
    }
    const sorted = [...delays].sort((x, y) => x - y);
    t.diagnostic(`claimed on B after the save's answer on A: median ${sorted[5]?.toFixed(1)} ms, max ${sorted[9]?.toFixed(1)} ms (10 rounds)`);
  });

  it("tells a submitter waiting on one server the result of a job completed through another", async () => {
    const [a, b] = [await start(), await start()];
    const [submitter, worker] = [await connect(a), await connect(b)];
    const id = await save(submitter, new Job('queue', 'rpc', { question: 6 }));
    assert.deepEqual(resultOf(await submitter.call('queue_jobWatch', [[id]])), { outcomes: [], missing: [] });
    const awaited = submitter.call('queue_outcomes', [{ waitMs: 20_000 }]);
    const [job] = resultOf(await worker.call('queue_getWork', [['rpc'], { waitMs: 20_000 }])) as JobDoc[];
    assert.equal(job?._id, id);
    assert.equal(resultOf(await worker.call('queue_jobDone', [id, job.runId, { answer: 42 }, {}])), true);
    assert.deepEqual(resultOf(await awaited), { chains: [], jobs: [{ id, status: 'completed', result: { answer: 42 } }] });
  });

  it('never hands out a job twice: 10,000 jobs claimed from two servers at once', async () => {
    const [a, b] = [await start({}, defaultLeases), await start({}, defaultLeases)];
    const producer = await connect(a);
    const total = 10_000;
    for (let saved = 0; saved < total; saved += 1000) {
      const docs = Array.from({ length: 1000 }, (_, index) => new Job('queue', 'bulk', { n: saved + index }).doc);
      const ids = resultOf(await producer.call('queue_jobSaveMany', [docs])) as string[];
      assert.equal(ids.length, 1000);
    }
    const claims = new Map<string, string>();
    const duplicates: string[] = [];
    // Two workers per server, each claiming up to 100 at a time and reporting each batch at once.
    const workers = [a, a, b, b].map(async (server) => {
      const client = await connect(server);
      for (;;) {
        const jobs = resultOf(await client.call('queue_getWork', [['bulk'], { maxJobs: 100 }])) as JobDoc[];
        if (jobs.length === 0) return;
        for (const job of jobs) {
          if (claims.has(job._id)) duplicates.push(job._id);
          claims.set(job._id, server.url);
        }
        const done = resultOf(await client.call('queue_jobDoneMany', [jobs.map((job) => ({ id: job._id, runId: job.runId }))])) as boolean[];
        assert.ok(done.every(Boolean), 'every run of a claim is current');
      }
    });
    await Promise.all(workers);
    assert.deepEqual(duplicates, []);
    assert.equal(claims.size, total);
    const byServer = new Set(claims.values());
    assert.equal(byServer.size, 2, 'both servers handed out jobs');
    const counts = resultOf(await producer.call('queue_getJob', [[...claims.keys()].slice(0, 50)])) as JobDoc[];
    assert.ok(counts.every((job) => job.status === 'completed'));
  });

  it('makes each repeat once with three servers running', async () => {
    const servers3 = [await start(), await start(), await start()];
    const [producer, ...workers] = await Promise.all(servers3.map((server) => connect(server)));
    assert.ok(producer);
    const id = await save(producer, new Job('queue', 'tick', {}).repeat({ repeats: 4, wait: 50 }));
    // Workers on every server complete whatever is ready, until five runs are done (or time is up).
    const done: string[] = [];
    const deadline = Date.now() + patience.timeoutMs;
    await Promise.all(
      [producer, ...workers].map(async (client) => {
        while (done.length < 5 && Date.now() < deadline) {
          const jobs = resultOf(await client.call('queue_getWork', [['tick'], { waitMs: 300 }])) as JobDoc[];
          for (const job of jobs) {
            assert.equal(resultOf(await client.call('queue_jobDone', [job._id, job.runId, {}, {}])), true);
            done.push(job._id);
          }
        }
      }),
    );
    assert.equal(new Set(done).size, 5, 'five distinct jobs: the first and four repeats');
    assert.ok(done.includes(id));
    // No sixth one, and no repeat made twice.
    const ticks = mongo.memory?.documents('cumulus', 'queue.jobs').filter((doc) => doc.type === 'tick');
    if (ticks !== undefined) assert.equal(ticks.length, 5);
  });

  it('promotes on one server only; another takes over when the leader is cut off', async (t: TestContext) => {
    if (mongo.memory === undefined) {
      t.skip('cutting a server off needs the in-memory MongoDB');
      return;
    }
    const all = [await start(), await start(), await start()];
    await waitFor(async () => (await leaderOf(all)).length === 1, { ...patience, description: 'one leader' });
    const [leader] = await leaderOf(all);
    assert.ok(leader !== undefined);
    const others = all.filter((server) => server !== leader);
    const client = await connect(others[0] as TestServer);
    const soon = await save(client, new Job('queue', 'later', {}).delay(200));
    await waitFor(async () => (await getJob(client, soon)).status === 'ready', { ...patience, description: 'the delayed job promoted' });
    const promotions = (await getJob(client, soon)).log?.filter((entry) => entry.message === 'Promoted to ready') ?? [];
    assert.equal(promotions.length, 1, 'promoted once');

    // The leader loses the database: its lease lapses and one of the others takes over.
    mongo.clients[servers.indexOf(leader)]?.setReachable(false);
    await waitFor(async () => (await leaderOf(others)).length === 1, { ...patience, description: 'a new leader among the others' });
    const later = await save(client, new Job('queue', 'later', {}).delay(100));
    await waitFor(async () => (await getJob(client, later)).status === 'ready', { ...patience, description: 'promoted by the new leader' });
  });

  it("requeues a gone server's running jobs after the grace, never a live server's", async (t: TestContext) => {
    if (mongo.memory === undefined) {
      t.skip('cutting a server off needs the in-memory MongoDB');
      return;
    }
    const [a, b] = [await start(), await start()];
    const [viaA, viaB] = [await connect(a), await connect(b)];
    const onA = await save(viaA, new Job('queue', 'held', { on: 'A' }));
    const [claimedOnA] = resultOf(await viaA.call('queue_getWork', [['held']])) as JobDoc[];
    assert.equal(claimedOnA?._id, onA);
    const onB = await save(viaB, new Job('queue', 'held', { on: 'B' }));
    const [claimedOnB] = resultOf(await viaB.call('queue_getWork', [['held']])) as JobDoc[];
    assert.equal(claimedOnB?._id, onB);

    mongo.clients[servers.indexOf(a)]?.setReachable(false);
    await waitFor(async () => (await getJob(viaB, onA)).status === 'ready', { ...patience, description: "A's job requeued" });
    const requeued = await getJob(viaB, onA);
    assert.ok(requeued.log?.some((entry) => entry.message === "Requeued: the worker's connection was lost"));
    assert.equal((await getJob(viaB, onB)).status, 'running', "B's own run is left alone");
  });

  it('answers 503 while the database is unreachable, keeps its clients, and serves them again once it is back', async (t: TestContext) => {
    if (mongo.memory === undefined) {
      t.skip('cutting the database off needs the in-memory MongoDB');
      return;
    }
    const server = await start();
    const client = await connect(server);
    const id = await save(client, new Job('queue', 'outage', {}));
    mongo.clients[0]?.setReachable(false);
    const refused = await client.call('queue_jobSave', [new Job('queue', 'outage', { during: true }).doc, {}]);
    assert.deepEqual([(refused.error as { error?: unknown })?.error, (refused.error as { reason?: unknown })?.reason], [503, 'Job store unavailable']);
    const unread = await client.call('queue_getJob', [id]);
    assert.equal((unread.error as { error?: unknown })?.error, 503);
    mongo.clients[0]?.setReachable(true);
    assert.equal((await getJob(client, id))._id, id, 'the same connection is served again');
    const saved = resultOf(await client.call('queue_jobSave', [new Job('queue', 'outage', { after: true }).doc, {}]));
    assert.equal(typeof saved, 'string');
    const stored = mongo.memory.documents('cumulus', 'queue.jobs').filter((doc) => doc.type === 'outage');
    assert.deepEqual(stored.map((doc) => (doc.data as Record<string, unknown>).during), [undefined, undefined], 'nothing of the refused save was written');
  });
});
