// A subscriber that stops reading its socket (docs/PROTOCOL.md §1.8), over real sockets: past
// the buffer limit its changes are coalesced, so when it reads again it gets the latest state in
// fewer messages than there were changes, and exactly the store's documents; one that does not
// read again is closed after the timeout; other connections are served all along.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import Job from 'meteor-job';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

function socketOf(client: RawDdpClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

/** The documents of `collection` a client holds, replayed from the data messages it received. */
function view(client: RawDdpClient, collection: string): Map<string, Record<string, unknown>> {
  const docs = new Map<string, Record<string, unknown>>();
  for (const message of client.received) {
    if (message.collection !== collection) continue;
    const id = message.id as string;
    if (message.msg === 'added') docs.set(id, { ...(message.fields as object) });
    else if (message.msg === 'changed') {
      Object.assign(docs.get(id) ?? {}, message.fields);
      for (const key of (message.cleared ?? []) as string[]) delete docs.get(id)?.[key];
    } else if (message.msg === 'removed') docs.delete(id);
  }
  return docs;
}

describe('a slow reader', () => {
  const servers: TestServer[] = [];
  const clients: RawDdpClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) {
      socketOf(client).resume();
      await client.close();
    }
    for (const server of servers.splice(0)) await server.stop();
  });

  async function start(env: Record<string, string>) {
    const server = await startTestServer(env);
    servers.push(server);
    const connect = async () => {
      const client = await RawDdpClient.connect(server.url, { autoPong: true, timeoutMs: 30_000 });
      clients.push(client);
      return client;
    };
    const writer = await connect();
    const call = async (method: string, ...params: unknown[]) => {
      const answer = await writer.call(`queue_${method}`, params);
      assert.equal(answer.error, undefined, JSON.stringify(answer.error));
      return answer.result;
    };
    return { server, connect, call };
  }

  /** 100 jobs of ~160 KiB: 16 MB of documents, more than the sockets' buffers take unread. */
  const bigJobs = () => Array.from({ length: 100 }, (_, i) => new Job('queue', 'big', { i, padding: 'x'.repeat(160 * 1024) }).doc);

  it('is coalesced: when it reads again it gets the latest state, in fewer messages than there were changes', async () => {
    const { server, connect, call } = await start({ CUMULUS_MAX_BUFFERED_BYTES: '16384', CUMULUS_SLOW_CLIENT_TIMEOUT_MS: '600000' });
    const slow = await connect();
    await slow.subscribe('queue.jobs', [{ limit: 1000 }]);
    socketOf(slow).pause();
    const ids = (await call('jobSaveMany', bigJobs())) as string[];
    let changes = ids.length;
    const other = await connect();
    for (let round = 0; round < 10; round += 1) {
      for (const id of ids) await call('jobLog', id, null, `round ${round}`, {});
      changes += ids.length;
      // Another connection is served all along.
      assert.equal((await other.call('queue_getJob', [ids[0]])).error, undefined);
    }
    await call('jobCancel', ids.slice(0, 10));
    await call('jobRemove', ids.slice(0, 10));
    changes += 20;
    socketOf(slow).resume();
    const id = slow.newId();
    slow.send({ msg: 'method', id, method: 'queue_getJob', params: ['none'] });
    await slow.nextMessage((m: DdpMessage) => m.msg === 'updated' && (m.methods as string[]).includes(id));
    const dataMessages = slow.received.filter((m) => m.collection === 'queue.jobs').length;
    assert.ok(dataMessages < changes / 2, `${dataMessages} messages for ${changes} changes`);
    const shown = view(slow, 'queue.jobs');
    const stored = await server.server.contexts.get('queue')?.store.list({}, { limit: 1000, order: 'updated-desc' });
    assert.deepEqual([...shown.keys()].sort(), (stored ?? []).map((job) => job._id).sort());
    for (const job of stored ?? []) assert.deepEqual(shown.get(job._id)?.updated, job.updated);
  });

  it('is closed when it does not read within the timeout, and the others go on', async () => {
    const { server, connect, call } = await start({ CUMULUS_MAX_BUFFERED_BYTES: '16384', CUMULUS_SLOW_CLIENT_TIMEOUT_MS: '300' });
    const slow = await connect();
    const connected = slow.received.find((m) => m.msg === 'connected');
    const sessionId = connected?.session as string;
    await slow.subscribe('queue.jobs', [{ limit: 1000 }]);
    socketOf(slow).pause();
    const ids = (await call('jobSaveMany', bigJobs())) as string[];
    const claims = server.server.contexts.get('queue')?.claims;
    for (let round = 0; round < 20 && claims?.isLive(sessionId) === true; round += 1) {
      for (const id of ids) await call('jobLog', id, null, `round ${round}`, {});
    }
    await waitFor(() => claims?.isLive(sessionId) === false, { timeoutMs: 10_000, description: 'the slow connection closed' });
    const other = await connect();
    assert.equal((await other.call('queue_getJob', [ids[0]])).error, undefined);
  });
});
