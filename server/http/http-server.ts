/**
 * The HTTP side of the server's one port: health, SockJS info for `ddp` clients with
 * `useSockJs`, and a front page. The DDP websocket is attached to the same server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomInt } from 'node:crypto';

export interface HttpInfo {
  roots: readonly string[];
  /** Whether the server is ready to serve (the store is open). */
  healthy(): boolean;
}

export function createHttpServer(info: HttpInfo): Server {
  return createServer((request, response) => {
    try {
      route(request, response, info);
    } catch {
      if (!response.headersSent) send(response, 500, 'text/plain', 'Internal server error\n');
    }
  });
}

function route(request: IncomingMessage, response: ServerResponse, info: HttpInfo): void {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, 'text/plain', 'Method not allowed\n');
  } else if (path === '/healthz') {
    const healthy = info.healthy();
    send(response, healthy ? 200 : 503, 'application/json', JSON.stringify({ status: healthy ? 'ok' : 'unavailable' }));
  } else if (path === '/sockjs/info') {
    // `ddp` with useSockJs only reads this, then opens a raw websocket at /websocket (docs/PROTOCOL.md §1.1).
    send(response, 200, 'application/json', JSON.stringify({ websocket: true, origins: ['*:*'], cookie_needed: false, entropy: randomInt(2 ** 31) }));
  } else if (path === '/') {
    send(response, 200, 'text/plain', frontPage(request, info));
  } else {
    send(response, 404, 'text/plain', 'Not found\n');
  }
}

function frontPage(request: IncomingMessage, info: HttpInfo): string {
  const host = request.headers.host ?? 'localhost';
  return [
    'Cumulus job server',
    '',
    `DDP endpoint: ws://${host}/websocket`,
    `Collections: ${info.roots.join(', ')} (methods <root>_getWork, <root>_jobSave, …)`,
    'Health: /healthz',
    '',
  ].join('\n');
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
  response.end(body);
}
