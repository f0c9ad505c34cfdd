import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawDdpClient, startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';
import { waitFor } from '../helpers/wait-for.ts';

const meteorId = /^[23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz]{17}$/;

describe('DDP handshake (docs/PROTOCOL.md §1.2)', () => {
  let server: TestDdpServer;
  before(async () => {
    server = await startDdpServer();
  });
  after(() => server.stop());

  async function handshake(connect: object): Promise<{ reply: Record<string, unknown>; client: RawDdpClient }> {
    const client = await RawDdpClient.open(server.url);
    client.send({ msg: 'connect', ...connect });
    const reply = await client.nextMessage();
    return { reply, client };
  }

  it('answers a ddp-style connect with a new 17-character Meteor id', async () => {
    const { reply, client } = await handshake({ version: '1', support: ['1', 'pre2', 'pre1'] });
    try {
      assert.equal(reply.msg, 'connected');
      assert.deepEqual(Object.keys(reply), ['msg', 'session']);
      assert.match(String(reply.session), meteorId);
    } finally {
      await client.close();
    }
  });

  it('ignores the session a simpleddp client offers on reconnect and issues a new one', async () => {
    const { reply, client } = await handshake({ version: '1', support: ['1'], session: 'oldSessionId12345' });
    try {
      assert.equal(reply.msg, 'connected');
      assert.notEqual(reply.session, 'oldSessionId12345');
      assert.match(String(reply.session), meteorId);
    } finally {
      await client.close();
    }
  });

  it('gives every connection its own session id', async () => {
    const a = await RawDdpClient.connect(server.url);
    const b = await RawDdpClient.connect(server.url);
    try {
      assert.notEqual(a.received[0]?.session, b.received[0]?.session);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  for (const [version, support] of [
    ['pre2', ['pre2', '1']],
    ['pre1', ['pre1']],
    ['1', ['3', '1']],
  ] as const) {
    it(`connects with version ${version} when it is the first supported entry of ${JSON.stringify(support)}`, async () => {
      const { reply, client } = await handshake({ version, support });
      try {
        assert.equal(reply.msg, 'connected');
        assert.equal(client.isOpen, true);
      } finally {
        await client.close();
      }
    });
  }

  const failures: Array<[string, object, string]> = [
    ['a better version is supported by both', { version: '1', support: ['pre2', '1'] }, 'pre2'],
    ['the client prefers 1 but proposes pre1', { version: 'pre1', support: ['1', 'pre1'] }, '1'],
    ['the version is not in its own support list', { version: 'pre2', support: ['1'] }, '1'],
    ['the version is not a string', { version: 1, support: ['1'] }, '1'],
    ['support is not an array', { version: '1', support: '1' }, '1'],
    ['support holds a non-string', { version: '1', support: ['1', 2] }, '1'],
    ['no version the server knows', { version: '2', support: ['2'] }, '1'],
    ['version and support are missing', {}, '1'],
  ];
  for (const [why, connect, suggested] of failures) {
    it(`sends failed {version:${suggested}} and closes when ${why}`, async () => {
      const { reply, client } = await handshake(connect);
      assert.deepEqual(reply, { msg: 'failed', version: suggested });
      await client.closed;
      assert.equal(client.received.length, 1);
    });
  }

  it('counts a socket as a connection from the upgrade to its close', async () => {
    await waitFor(() => server.ddp.connectionCount === 0, { description: 'earlier sockets gone' });
    const client = await RawDdpClient.open(server.url);
    await waitFor(() => server.ddp.connectionCount === 1, { description: 'socket counted before its handshake' });
    assert.equal((await client.handshake()).msg, 'connected');
    await client.close();
    await waitFor(() => server.ddp.connectionCount === 0, { description: 'closed socket no longer counted' });
  });
});

describe('handshake timeout', () => {
  it('closes a socket that never sends connect, and only that one', async () => {
    const server = await startDdpServer({ handshakeTimeoutMs: 50 });
    try {
      const silent = await RawDdpClient.open(server.url);
      const polite = await RawDdpClient.connect(server.url);
      await silent.closed;
      assert.equal(polite.isOpen, true);
      await polite.close();
    } finally {
      await server.stop();
    }
  });
});

describe('onConnect hook', () => {
  it('receives the connection once the handshake succeeded', async () => {
    const server = await startDdpServer();
    const seen: Array<{ id: string; clientAddress: string | undefined; userId: string | null }> = [];
    server.ddp.onConnect((c) => {
      seen.push({ id: c.id, clientAddress: c.clientAddress, userId: c.userId });
    });
    server.ddp.onConnect(() => {
      throw new Error('a failing hook must not break the connection');
    });
    const client = await RawDdpClient.connect(server.url);
    try {
      assert.deepEqual(seen, [{ id: client.received[0]?.session, clientAddress: '127.0.0.1', userId: null }]);
      assert.equal(client.isOpen, true);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
