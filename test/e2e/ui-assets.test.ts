// The web UI's files over HTTP: the page with its security policy and collection roots, the
// bundle built on first request and revalidated with ETags, and the plain-text page at /about.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

describe('web UI assets', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ CUMULUS_COLLECTIONS: 'queue,mail' });
  });

  after(async () => {
    await server.stop();
  });

  it('serves the page with its policy and the collection roots', async () => {
    const response = await fetch(`${server.url}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(response.headers.get('content-security-policy') ?? '', /connect-src 'self';.*frame-ancestors 'none'/);
    const html = await response.text();
    assert.match(html, /<meta name="cumulus-roots" content="queue,mail">/);
    assert.match(html, /<script type="module" src="\/ui\/app.js">/);
  });

  it('serves the bundle, and answers 304 to a browser that has it', async () => {
    for (const [path, type] of [['/ui/app.js', /^text\/javascript/], ['/ui/app.css', /^text\/css/]] as const) {
      const first = await fetch(`${server.url}${path}`);
      assert.equal(first.status, 200);
      assert.match(first.headers.get('content-type') ?? '', type);
      const tag = first.headers.get('etag');
      assert.ok(tag !== null && (await first.text()).length > 1000, `${path} has content and an ETag`);
      const again = await fetch(`${server.url}${path}`, { headers: { 'if-none-match': tag } });
      assert.equal(again.status, 304);
      assert.equal(await again.text(), '');
    }
  });

  it('keeps the plain-text description at /about', async () => {
    const text = await (await fetch(`${server.url}/about`)).text();
    assert.match(text, /DDP endpoint: ws:\/\/.*\/websocket/);
    assert.match(text, /Collections: queue, mail/);
  });
});
