// Starting and stopping the composed server in-process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawDdpClient } from '../helpers/raw-ddp-client.ts';
import { startTestServer } from '../helpers/start-server.ts';

describe('server lifecycle', () => {
  it('stops once, however often stop() is called, answering waiting workers first', async () => {
    const server = await startTestServer();
    const client = await RawDdpClient.connect(server.url, { autoPong: true, timeoutMs: 10_000 });
    const id = client.newId();
    client.send({ msg: 'method', id, method: 'queue_getWork', params: ['nothing', { waitMs: 60_000 }] });
    // The waiting call is parked (unblocked) once the next call on the connection is answered.
    assert.equal((await client.call('queue_getJob', ['missing'])).result, null);
    const first = server.server.stop();
    const second = server.server.stop();
    assert.equal(first, second);
    const answer = await client.nextMessage((m) => m.msg === 'result' && m.id === id);
    assert.deepEqual(answer.result, [], 'a waiting getWork is answered with no work at shutdown');
    await Promise.all([first, second]);
    await client.closed;
    await assert.rejects(fetch(`${server.url}/healthz`));
    await server.stop();
  });
});
