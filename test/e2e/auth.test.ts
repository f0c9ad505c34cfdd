// Bearer tokens mapped onto jobCollection's permission groups, over real DDP connections.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Job from 'meteor-job';
import { RawDdpClient } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

const tokens = { admin: 'admin-secret-1', worker: 'worker-secret-1', creator: 'creator-secret-1' };

describe('authentication and permissions', () => {
  let server: TestServer;
  const clients: RawDdpClient[] = [];
  const connect = async () => {
    const client = await RawDdpClient.connect(server.url, { autoPong: true });
    clients.push(client);
    return client;
  };
  const errorOf = (message: Record<string, unknown>) => message.error as { error: number; reason: string } | undefined;

  before(async () => {
    server = await startTestServer({ CUMULUS_TOKENS: Object.entries(tokens).map(([role, token]) => `${role}:${token}`).join(',') });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  });

  it('refuses every job method and publication before login', async () => {
    const client = await connect();
    const result = await client.call('queue_getWork', ['any']);
    assert.deepEqual(errorOf(result), {
      isClientSafe: true, error: 403, reason: 'Method not authorized',
      details: 'Authenticated user is not permitted to invoke this method.',
      message: 'Method not authorized [403]', errorType: 'Meteor.Error',
    });
    const sub = await client.subscribe('queue.jobs');
    assert.equal(sub.msg, 'nosub');
    assert.equal(errorOf(sub)?.error, 403);
  });

  it('answers bad logins with Meteor account errors', async () => {
    const client = await connect();
    assert.deepEqual(
      [errorOf(await client.call('login', [{ resume: 'wrong-token' }]))?.error, errorOf(await client.call('login', [{ resume: 'wrong-token' }]))?.reason],
      [403, "You've been logged out by the server. Please log in again."],
    );
    assert.equal(errorOf(await client.call('login', ['token']))?.error, 400);
    assert.equal(errorOf(await client.call('login', [{ resume: 42 }]))?.error, 400);
    assert.equal(errorOf(await client.call('login', [{ user: { username: 'x' }, password: 'y' }]))?.reason, 'Unrecognized options for login request');
    assert.equal(errorOf(await client.call('queue_getWork', ['any']))?.error, 403, 'still logged out');
  });

  it('gives a worker token the worker methods only', async () => {
    const client = await connect();
    const login = await client.call('login', [{ resume: tokens.worker }]);
    const answer = login.result as { id: string; token: string; tokenExpires: Date; type: string };
    assert.equal(answer.token, tokens.worker);
    assert.equal(answer.type, 'resume');
    assert.ok(answer.tokenExpires instanceof Date);
    assert.deepEqual((await client.call('queue_getWork', ['any'])).result, []);
    assert.equal(errorOf(await client.call('queue_jobSave', [new Job('queue', 'any', {}).doc]))?.error, 403);
    assert.equal(errorOf(await client.call('queue_jobCancel', ['x']))?.error, 403);
    assert.equal(errorOf(await client.call('queue_shutdownJobServer', []))?.error, 403);
    assert.equal((await client.subscribe('queue.stats')).msg, 'ready');
  });

  it('checks permission before arguments, as jobCollection does', async () => {
    const client = await connect();
    await client.call('login', [{ resume: tokens.creator }]);
    assert.equal(errorOf(await client.call('queue_getWork', [42]))?.error, 403);
    assert.equal(errorOf(await client.call('queue_jobSave', [{ not: 'a job' }]))?.error, 400);
    assert.equal(typeof (await client.call('queue_jobSave', [new Job('queue', 'any', {}).doc])).result, 'string');
  });

  it('lets every role read jobs, so a producer can await its result', async () => {
    const client = await connect();
    await client.call('login', [{ resume: tokens.creator }]);
    const id = (await client.call('queue_jobSave', [new Job('queue', 'readable', {}).doc])).result as string;
    const read = await client.call('queue_getJob', [id]);
    assert.equal((read.result as { _id: string; status: string }).status, 'ready');
  });

  it("lets a worker submit a chain only on behalf of the job it runs; every role may await chains", async () => {
    const creator = await connect();
    await creator.call('login', [{ resume: tokens.creator }]);
    const parent = (await creator.call('queue_chainSubmit', [[{ type: 'parent-task' }], { watch: true }])).result as { chainId: string; jobId: string };
    const worker = await connect();
    await worker.call('login', [{ resume: tokens.worker }]);
    assert.equal(errorOf(await worker.call('queue_chainSubmit', [[{ type: 'child-task' }]]))?.error, 403, 'not on its own');
    const [claimed] = (await worker.call('queue_getWork', ['parent-task'])).result as { _id: string; runId: string }[];
    assert.ok(claimed !== undefined);
    const child = await worker.call('queue_chainSubmit', [[{ type: 'child-task' }], { parent: { id: claimed._id, runId: claimed.runId }, watch: true }]);
    assert.equal(typeof (child.result as { chainId?: unknown }).chainId, 'string');
    assert.deepEqual((await worker.call('queue_outcomes', [{ waitMs: 0 }])).result, { chains: [], jobs: [] });
    assert.deepEqual((await creator.call('queue_chainWatch', [[parent.chainId]])).result, { outcomes: [], missing: [] });
  });

  it('lets an admin do everything, and logout takes it away', async () => {
    const client = await connect();
    await client.call('login', [{ resume: tokens.admin }]);
    assert.equal(typeof (await client.call('queue_jobSave', [new Job('queue', 'adm', {}).doc])).result, 'string');
    assert.equal((await client.call('queue_shutdownJobServer', [{ timeout: 1000 }])).result, true);
    assert.equal((await client.call('queue_startJobServer', [])).result, true);
    const logout = await client.call('logout', []);
    assert.equal('result' in logout, false, 'logout has no result');
    assert.equal(errorOf(await client.call('queue_getWork', ['adm']))?.error, 403);
  });
});
