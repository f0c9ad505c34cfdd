import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { RawDdpClient, startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';
import { waitFor } from '../helpers/wait-for.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The HTTP status a websocket upgrade to `url` is refused with. */
async function refusedStatus(url: string): Promise<number> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
  ws.terminate();
  return response.statusCode;
}

describe('websocket transport (docs/PROTOCOL.md §1.1)', () => {
  let server: TestDdpServer;
  before(async () => {
    server = await startDdpServer({ maxMessageBytes: 1024 });
    server.ddp.method('echo', (_invocation, params) => params);
  });
  after(() => server.stop());

  it('accepts /websocket/ as well as /websocket', async () => {
    const client = await RawDdpClient.connect(server.url, { path: '/websocket/' });
    try {
      assert.deepEqual((await client.call('echo', ['slash'])).result, ['slash']);
    } finally {
      await client.close();
    }
  });

  it('refuses upgrades on other paths with 404', async () => {
    assert.equal(await refusedStatus(`ws://127.0.0.1:${server.port}/sockjs/websocket`), 404);
  });

  it('leaves other paths to another upgrade handler when there is one', async () => {
    const seen: string[] = [];
    const other = (request: { url?: string }, socket: { destroy(): void }) => {
      if (request.url?.startsWith('/websocket')) return;
      seen.push(request.url ?? '');
      socket.destroy();
    };
    server.http.on('upgrade', other);
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/elsewhere`);
      ws.on('error', () => undefined); // the other handler hangs up
      await new Promise((resolve) => ws.once('close', resolve));
      assert.deepEqual(seen, ['/elsewhere']);
      const client = await RawDdpClient.connect(server.url);
      await client.close();
      assert.deepEqual(seen, ['/elsewhere'], 'both handlers coexist');
    } finally {
      server.http.off('upgrade', other);
    }
  });

  it('closes a connection sending an oversized frame with 1009 and keeps serving the others', async () => {
    const big = await RawDdpClient.connect(server.url);
    const other = await RawDdpClient.connect(server.url);
    try {
      big.send({ msg: 'method', id: 'big', method: 'echo', params: ['x'.repeat(2048)] });
      const { code } = await big.closed;
      assert.equal(code, 1009);
      assert.deepEqual((await other.call('echo', ['fine'])).result, ['fine']);
    } finally {
      await Promise.all([big.close(), other.close()]);
    }
  });

  it('treats a binary frame as UTF-8 text', async () => {
    const client = await RawDdpClient.connect(server.url);
    try {
      client.sendRaw(Buffer.from(JSON.stringify({ msg: 'method', id: 'bin', method: 'echo', params: [1] })));
      assert.deepEqual((await client.nextMessage((m) => m.id === 'bin')).result, [1]);
    } finally {
      await client.close();
    }
  });
});

describe('DdpServer.close', () => {
  it('lets a running method finish, drops queued ones, then closes every socket and refuses new ones', async () => {
    const server = await startDdpServer();
    const release = deferred();
    const started: string[] = [];
    server.ddp.method('slow', async () => {
      started.push('slow');
      await release.promise;
      return 'finished';
    });
    server.ddp.method('queued', () => {
      started.push('queued');
    });
    const busy = await RawDdpClient.connect(server.url);
    const idle = await RawDdpClient.connect(server.url);
    try {
      busy.send({ msg: 'method', id: 'm1', method: 'slow', params: [] });
      busy.send({ msg: 'method', id: 'm2', method: 'queued', params: [] });
      await waitFor(() => started.includes('slow'));
      const closing = server.ddp.close(5000);
      assert.equal(await refusedStatus(`ws://127.0.0.1:${server.port}/websocket`), 503);
      assert.equal(idle.isOpen, true, 'sockets stay open while methods finish');
      release.resolve();
      await closing;
      assert.deepEqual(busy.received.find((m) => m.id === 'm1'), { msg: 'result', id: 'm1', result: 'finished' });
      assert.deepEqual(started, ['slow']);
      assert.equal((await busy.closed).code, 1001);
      assert.equal((await idle.closed).code, 1001);
      assert.equal(server.ddp.connectionCount, 0);
    } finally {
      release.resolve();
      await server.stop();
    }
  });

  it('gives up waiting for a method after the timeout', async () => {
    const server = await startDdpServer();
    let started = false;
    server.ddp.method('forever', () => {
      started = true;
      return new Promise(() => undefined);
    });
    const client = await RawDdpClient.connect(server.url);
    try {
      client.send({ msg: 'method', id: 'm1', method: 'forever', params: [] });
      await waitFor(() => started);
      await server.ddp.close(20);
      assert.equal((await client.closed).code, 1001);
      assert.equal(client.received.some((m) => m.msg === 'result'), false);
    } finally {
      await server.stop();
    }
  });
});
