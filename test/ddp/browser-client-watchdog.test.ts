// The Weather Station's DDP client (server/ui/ddp) over real websockets: a link that goes
// silent is pinged, then given up — calls in flight fail as lost, a new link is opened — while a
// server that answers the pings keeps the same link.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { DdpConnection, DdpError } from '../../server/ui/ddp/ddp-connection.ts';
import { waitFor } from '../helpers/wait-for.ts';

interface Link {
  pings: number;
}

/** A DDP server that answers `connect`, then answers pings only when `answerPings` is set. */
async function fakeServer(answerPings: boolean) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const links: Link[] = [];
  server.on('connection', (socket) => {
    const link: Link = { pings: 0 };
    links.push(link);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { msg: string };
      if (message.msg === 'connect') socket.send(JSON.stringify({ msg: 'connected', session: `s${links.length}` }));
      if (message.msg === 'ping') {
        link.pings += 1;
        if (answerPings) socket.send(JSON.stringify({ msg: 'pong' }));
      }
    });
  });
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      // Its own HTTP server waits for every connection to end before it closes.
      for (const client of server.clients) client.terminate();
      server.close(() => resolve());
    });
  return { url: `ws://127.0.0.1:${port}`, links, close };
}

describe('browser DDP client watchdog', () => {
  const globals = globalThis as { WebSocket?: unknown };
  const original = globals.WebSocket;
  before(() => {
    globals.WebSocket = WebSocket;
  });
  after(() => {
    globals.WebSocket = original;
  });

  it('pings a silent link, then gives it up: the call in flight fails as lost and a new link is opened', async (t) => {
    const server = await fakeServer(false);
    t.after(() => server.close());
    const client = new DdpConnection(server.url, { heartbeatMs: 200 });
    t.after(() => client.close());
    await waitFor(() => client.status === 'connected', { description: 'connected' });
    const call = client.call('never-answered');
    await assert.rejects(call, (error: unknown) => error instanceof DdpError && error.error === 'connection-lost');
    assert.ok((server.links[0]?.pings ?? 0) >= 1, 'pinged before giving up');
    await waitFor(() => server.links.length === 2 && client.status === 'connected', { description: 'a new link' });
  });

  it('keeps a link whose server answers the pings', async (t) => {
    const server = await fakeServer(true);
    t.after(() => server.close());
    const client = new DdpConnection(server.url, { heartbeatMs: 100 });
    t.after(() => client.close());
    await waitFor(() => (server.links[0]?.pings ?? 0) >= 6, { description: 'six pings answered' });
    assert.equal(server.links.length, 1);
    assert.equal(client.status, 'connected');
  });
});
