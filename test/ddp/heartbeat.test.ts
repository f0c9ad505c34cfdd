import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawDdpClient, startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';
import { waitFor } from '../helpers/wait-for.ts';

function pingsOf(client: RawDdpClient): number {
  return client.received.filter((m) => m.msg === 'ping').length;
}

describe('client pings (docs/PROTOCOL.md §1.4)', () => {
  let server: TestDdpServer;
  before(async () => {
    server = await startDdpServer({ heartbeatIntervalMs: 0 });
    server.ddp.method('echo', (_invocation, params) => params);
  });
  after(() => server.stop());

  it('answers ping with pong echoing the id, and without an id when none was sent', async () => {
    const client = await RawDdpClient.connect(server.url);
    try {
      client.send({ msg: 'ping', id: 'abc' });
      assert.deepEqual(await client.nextMessage(), { msg: 'pong', id: 'abc' });
      client.send({ msg: 'ping' });
      const pong = await client.nextMessage();
      assert.deepEqual(pong, { msg: 'pong' });
      assert.equal(Object.hasOwn(pong, 'id'), false);
    } finally {
      await client.close();
    }
  });

  it('drops an incoming pong silently', async () => {
    const client = await RawDdpClient.connect(server.url);
    try {
      client.send({ msg: 'pong', id: 'x' });
      client.send({ msg: 'pong' });
      await client.call('echo');
      assert.deepEqual(
        client.received.map((m) => m.msg),
        ['connected', 'result', 'updated'],
      );
    } finally {
      await client.close();
    }
  });

  it('answers ping on a pre1 connection with Bad request', async () => {
    const client = await RawDdpClient.open(server.url);
    try {
      assert.equal((await client.handshake('pre1', ['pre1'])).msg, 'connected');
      client.send({ msg: 'ping', id: 'p' });
      assert.deepEqual(await client.nextMessage(), { msg: 'error', reason: 'Bad request', offendingMessage: { msg: 'ping', id: 'p' } });
    } finally {
      await client.close();
    }
  });
});

describe('server heartbeat timeout (docs/PROTOCOL.md §1.4)', () => {
  it('pings a silent client with {"msg":"ping"} and closes it when the ping goes unanswered', async () => {
    const server = await startDdpServer({ heartbeatIntervalMs: 30, heartbeatTimeoutMs: 30 });
    const client = await RawDdpClient.connect(server.url);
    try {
      const ping = await client.nextMessage((m) => m.msg === 'ping');
      assert.deepEqual(ping, { msg: 'ping' });
      const { code } = await client.closed;
      assert.ok(code === 1000 || code === 1005, `normal close, got ${code}`);
      await waitFor(() => server.ddp.connectionCount === 0);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});

describe('server heartbeat (docs/PROTOCOL.md §1.4)', () => {
  let server: TestDdpServer;
  before(async () => {
    // A generous timeout: a busy test machine must not turn an answered ping into a close.
    server = await startDdpServer({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 2000 });
  });
  after(() => server.stop());

  it('keeps a connection that answers its pings', async () => {
    const client = await RawDdpClient.connect(server.url, { autoPong: true });
    try {
      await waitFor(() => pingsOf(client) >= 4, { description: 'four answered pings' });
      assert.equal(client.isOpen, true);
    } finally {
      await client.close();
    }
  });

  it('never pings a pre1 connection', async () => {
    const modern = await RawDdpClient.connect(server.url, { autoPong: true });
    const pre1 = await RawDdpClient.open(server.url);
    try {
      await pre1.handshake('pre1', ['pre1']);
      // The modern connection is the clock: by its third ping, pre1 would have had pings too.
      await waitFor(() => pingsOf(modern) >= 3, { description: 'three pings on the modern connection' });
      assert.equal(pingsOf(pre1), 0);
      assert.equal(pre1.isOpen, true);
    } finally {
      await Promise.all([modern.close(), pre1.close()]);
    }
  });
});

describe('server heartbeat disabled', () => {
  it('sends no pings when heartbeatIntervalMs is 0', async () => {
    const silent = await startDdpServer({ heartbeatIntervalMs: 0, heartbeatTimeoutMs: 10 });
    const clock = await startDdpServer({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 1000 });
    const quiet = await RawDdpClient.connect(silent.url);
    const ticking = await RawDdpClient.connect(clock.url, { autoPong: true });
    try {
      await waitFor(() => pingsOf(ticking) >= 3, { description: 'three pings on the reference server' });
      assert.equal(pingsOf(quiet), 0);
      assert.equal(quiet.isOpen, true);
    } finally {
      await Promise.all([quiet.close(), ticking.close()]);
      await Promise.all([silent.stop(), clock.stop()]);
    }
  });
});
