/**
 * The HTTP side of the server's one port: the Weather Station (the UI, at `/`), health and
 * readiness, Prometheus metrics, SockJS info for `ddp` clients with `useSockJs`. The DDP
 * websocket is attached to the same server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomInt } from 'node:crypto';
import { uiBundle, uiPage } from './ui-assets.ts';

/**
 * The UI loads only what the server serves and talks only to its own websocket ('self' covers
 * ws: and wss: on the same host); styles set from script are not inline styles to CSP.
 */
const uiPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface HttpInfo {
  roots: readonly string[];
  /**
   * Whether the server can serve: not shutting down, and the store answers a real query.
   * Resolves to a reason when it cannot.
   */
  health(): Promise<string | undefined>;
  /** Whether start-up is over (the store open, the collections running, the port listening). */
  ready(): boolean;
  /** The Prometheus exposition. */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** Told when the web UI cannot be built (the page then answers 500 and says so). */
  uiFailed?(error: unknown): void;
}

export function createHttpServer(info: HttpInfo): Server {
  return createServer((request, response) => {
    const failed = () => {
      if (!response.headersSent) send(response, 500, 'text/plain', 'Internal server error\n');
    };
    try {
      route(request, response, info).catch(failed);
    } catch {
      failed();
    }
  });
}

async function route(request: IncomingMessage, response: ServerResponse, info: HttpInfo): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, 'text/plain', 'Method not allowed\n');
  } else if (path === '/healthz') {
    const problem = await info.health();
    const body = problem === undefined ? { status: 'ok' } : { status: 'unavailable', reason: problem };
    send(response, problem === undefined ? 200 : 503, 'application/json', JSON.stringify(body));
  } else if (path === '/readyz') {
    const ready = info.ready();
    send(response, ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'starting' }));
  } else if (path === '/metrics') {
    const { contentType, text } = await info.metrics();
    response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    response.end(text);
  } else if (path === '/sockjs/info') {
    // `ddp` with useSockJs only reads this, then opens a raw websocket at /websocket (docs/PROTOCOL.md §1.1).
    send(response, 200, 'application/json', JSON.stringify({ websocket: true, origins: ['*:*'], cookie_needed: false, entropy: randomInt(2 ** 31) }));
  } else if (path === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': uiPolicy });
    response.end(uiPage(info.roots));
  } else if (path === '/ui/app.js' || path === '/ui/app.css') {
    let bundle;
    try {
      bundle = await uiBundle();
    } catch (error) {
      info.uiFailed?.(error);
      send(response, 500, 'text/plain', `The web UI could not be built: ${error instanceof Error ? error.message : String(error)}\n`);
      return;
    }
    const [type, body, tag] = path.endsWith('.js') ? ['text/javascript', bundle.js, bundle.jsTag] : ['text/css', bundle.css, bundle.cssTag];
    // Revalidated at each load: a new server version is picked up at once, an unchanged one costs a 304.
    if (request.headers['if-none-match'] === tag) {
      response.writeHead(304, { etag: tag, 'cache-control': 'no-cache' });
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-cache', etag: tag });
    response.end(body);
  } else if (path === '/about') {
    send(response, 200, 'text/plain', about(request, info));
  } else {
    send(response, 404, 'text/plain', 'Not found\n');
  }
}

/** What the server is, in plain text, for a terminal. */
function about(request: IncomingMessage, info: HttpInfo): string {
  const host = request.headers.host ?? 'localhost';
  return [
    'Cumulus job server',
    '',
    `DDP endpoint: ws://${host}/websocket`,
    `Collections: ${info.roots.join(', ')} (methods <root>_getWork, <root>_jobSave, …)`,
    'Weather Station (the web UI): /',
    'Health: /healthz, readiness: /readyz, metrics (Prometheus): /metrics',
    '',
  ].join('\n');
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
  response.end(body);
}
