// Web pages must not be able to drive a server they do not belong to (cross-site websocket
// hijacking, DNS rebinding); Node clients, which send no Origin, are unaffected.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { isLoopbackHost } from '../../server/http/origin-policy.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

/** Opens a websocket with the given headers; resolves with 'open' or the refusal's HTTP status. */
function tryUpgrade(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', () => undefined);
  });
}

describe('websocket origin policy', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ CUMULUS_ALLOWED_ORIGINS: 'https://ui.example.com' });
  });
  after(() => server.stop());

  it('accepts Node clients (no Origin) and pages of the server itself', async () => {
    assert.equal(await tryUpgrade(server.wsUrl, {}), 'open');
    assert.equal(await tryUpgrade(server.wsUrl, { Origin: server.url }), 'open');
  });

  it('refuses a foreign page, unless its origin is allowed', async () => {
    assert.equal(await tryUpgrade(server.wsUrl, { Origin: 'https://evil.example' }), 403);
    assert.equal(await tryUpgrade(server.wsUrl, { Origin: 'null' }), 403);
    assert.equal(await tryUpgrade(server.wsUrl, { Origin: 'https://ui.example.com' }), 'open');
  });

  it('refuses a non-loopback Host while auth is off (DNS rebinding)', async () => {
    const rebound = `http://rebound.example:${server.port}`;
    assert.equal(await tryUpgrade(server.wsUrl, { Host: `rebound.example:${server.port}`, Origin: rebound }), 403);
    assert.equal(await tryUpgrade(server.wsUrl, { Host: `rebound.example:${server.port}` }), 403);
  });

  it('accepts any Host once tokens are required', async () => {
    const authed = await startTestServer({ CUMULUS_TOKENS: 'admin:admin-secret-1' });
    try {
      assert.equal(await tryUpgrade(authed.wsUrl, { Host: `jobs.example:${authed.port}` }), 'open');
    } finally {
      await authed.stop();
    }
  });

  it('knows the loopback host names', () => {
    for (const host of ['localhost', 'localhost:3000', '127.0.0.1:80', '127.1.2.3', '[::1]', '[::1]:3000']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['example.com', '127.0.0.1.example.com:3000', '[::2]:3000', '10.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
  });
});
