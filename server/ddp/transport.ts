/**
 * Raw WebSocket transport (docs/PROTOCOL.md §1.1): upgrades on `/websocket` and `/websocket/` of an
 * existing HTTP server, one text frame per DDP message. Nothing above this file sees `ws`.
 */
import type { IncomingMessage as HttpRequest, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Logger } from '../logger.ts';
import type { WireText } from './wire.ts';

/** One client socket as the session sees it. */
export interface DdpSocket {
  readonly clientAddress: string | undefined;
  readonly isOpen: boolean;
  /** Bytes sent and not yet written to the network (the backlog of a slow reader). */
  readonly bufferedAmount: number;
  /** Sends one text frame. */
  send(text: WireText): void;
  /** Starts a close handshake; `closed` settles when it is done. */
  close(code?: number, reason?: string): void;
  /** Drops the connection without a handshake. */
  terminate(): void;
  readonly closed: Promise<void>;
}

/** What the transport tells about one socket. */
export interface SocketListener {
  receive(text: string): void;
  socketClosed(): void;
}

export interface TransportOptions {
  maxPayload: number;
  logger: Logger;
  /** A status line to refuse an upgrade with, or undefined to accept it. */
  checkUpgrade?: (request: HttpRequest) => string | undefined;
  /** Called for each accepted socket; returns who hears its frames. */
  onSocket(socket: DdpSocket): SocketListener;
}

const ddpPaths = new Set(['/websocket', '/websocket/']);

function rejectUpgrade(socket: Duplex, status: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

class WsSocket implements DdpSocket {
  readonly closed: Promise<void>;

  readonly #ws: WebSocket;
  #corked = false;

  constructor(
    ws: WebSocket,
    readonly clientAddress: string | undefined,
  ) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(text: WireText): void {
    if (!this.isOpen) return;
    this.#corkUntilNextTick();
    // UTF-8 bytes go out as a text frame too, referenced rather than copied.
    this.#ws.send(text, { binary: false });
  }

  /**
   * The frames sent during one turn leave in one write: a live query's batch to a connection is
   * many small frames, and a system call each would cost more than the frames.
   */
  #corkUntilNextTick(): void {
    if (this.#corked) return;
    // ws keeps its net.Socket as `_socket`; without one (closing) frames go out one by one.
    const socket = (this.#ws as unknown as { _socket?: Duplex })._socket;
    if (socket === undefined) return;
    this.#corked = true;
    socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }
}

export class WebSocketTransport {
  readonly #wss: WebSocketServer;
  readonly #servers = new Map<HttpServer, (request: HttpRequest, socket: Duplex, head: Buffer) => void>();
  #accepting = true;

  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
    // perMessageDeflate stays off (ws' default): DDP frames are small and compression costs CPU.
    this.#wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: options.maxPayload });
    this.#wss.on('error', (error) => options.logger.error({ err: error }, 'websocket server error'));
  }

  attach(server: HttpServer): void {
    if (this.#servers.has(server)) return;
    const listener = (request: HttpRequest, socket: Duplex, head: Buffer): void => this.#onUpgrade(server, request, socket, head);
    this.#servers.set(server, listener);
    server.on('upgrade', listener);
  }

  /** New upgrades on the DDP paths are refused from now on (503). */
  stopAccepting(): void {
    this.#accepting = false;
  }

  detach(): void {
    for (const [server, listener] of this.#servers) server.off('upgrade', listener);
    this.#servers.clear();
    this.#wss.close();
  }

  #onUpgrade(server: HttpServer, request: HttpRequest, socket: Duplex, head: Buffer): void {
    let path: string;
    try {
      path = new URL(request.url ?? '/', 'http://localhost').pathname;
    } catch {
      path = '';
    }
    if (!ddpPaths.has(path)) {
      // Other upgrade handlers may own this path; answer only when nobody else could.
      if (server.listenerCount('upgrade') <= 1) rejectUpgrade(socket, '404 Not Found');
      return;
    }
    if (!this.#accepting) {
      rejectUpgrade(socket, '503 Service Unavailable');
      return;
    }
    const refusal = this.#options.checkUpgrade?.(request);
    if (refusal !== undefined) {
      this.#options.logger.info({ origin: request.headers.origin, host: request.headers.host }, `websocket upgrade refused: ${refusal}`);
      rejectUpgrade(socket, refusal);
      return;
    }
    socket.on('error', (error) => this.#options.logger.debug({ err: error }, 'upgrade socket error'));
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, request));
  }

  #accept(ws: WebSocket, request: HttpRequest): void {
    const { logger } = this.#options;
    const socket = new WsSocket(ws, request.socket.remoteAddress);
    let listener: SocketListener;
    try {
      listener = this.#options.onSocket(socket);
    } catch (error) {
      logger.error({ err: error }, 'could not start a DDP session');
      ws.terminate();
      return;
    }
    // An oversized frame arrives here too; ws has already closed that socket with 1009.
    ws.on('error', (error) => logger.debug({ err: error }, 'websocket error'));
    ws.on('message', (data) => {
      try {
        listener.receive(toText(data));
      } catch (error) {
        logger.error({ err: error }, 'DDP frame handling failed');
      }
    });
    ws.once('close', () => {
      try {
        listener.socketClosed();
      } catch (error) {
        logger.error({ err: error }, 'DDP session close failed');
      }
    });
  }
}
