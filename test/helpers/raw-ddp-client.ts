/**
 * A raw-websocket DDP client for protocol tests: it sends exactly what a test gives it and
 * records every frame, so tests can assert the server's messages one by one. Also starts a
 * `DdpServer` on a free loopback port to point it at.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import EJSON from 'ejson';
import WebSocket from 'ws';
import { DdpServer, type DdpServerOptions } from '../../server/ddp/index.ts';
import { createLogger } from '../../server/logger.ts';

export type DdpMessage = Record<string, unknown> & { msg?: string };

export interface RawDdpClientOptions {
  /** How long `nextMessage` waits before failing. Default 2000 ms. */
  timeoutMs?: number;
  path?: string;
  /** Answer server pings at once, as real clients do; they are still recorded in `received`. */
  autoPong?: boolean;
}

interface Waiter {
  predicate: (message: DdpMessage) => boolean;
  resolve: (message: DdpMessage) => void;
}

export class RawDdpClient {
  /** Every message received, in order, whether consumed by `nextMessage` or not. */
  readonly received: DdpMessage[] = [];
  /** Resolves with the close code and reason once the socket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly unconsumed: DdpMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  private nextId = 0;

  private constructor(
    readonly ws: WebSocket,
    private readonly timeoutMs: number,
    private readonly autoPong: boolean,
  ) {
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('error', () => undefined); // surfaced through `closed`
    ws.on('message', (data) => this.onMessage(data.toString()));
  }

  /** Opens a socket to `http://host:port` (no DDP handshake yet). */
  static async open(baseUrl: string, options: RawDdpClientOptions = {}): Promise<RawDdpClient> {
    const url = `${baseUrl.replace(/^http/, 'ws')}${options.path ?? '/websocket'}`;
    const ws = new WebSocket(url);
    const client = new RawDdpClient(ws, options.timeoutMs ?? 2000, options.autoPong ?? false);
    await once(ws, 'open');
    return client;
  }

  /** Opens a socket and completes the handshake; resolves with the `connected` message. */
  static async connect(baseUrl: string, options: RawDdpClientOptions = {}): Promise<RawDdpClient> {
    const client = await RawDdpClient.open(baseUrl, options);
    await client.handshake();
    return client;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  async handshake(version = '1', support = ['1', 'pre2', 'pre1']): Promise<DdpMessage> {
    this.send({ msg: 'connect', version, support });
    return this.nextMessage((m) => m.msg === 'connected' || m.msg === 'failed');
  }

  /** Sends a message as EJSON. */
  send(message: object): void {
    this.ws.send(EJSON.stringify(message));
  }

  sendRaw(text: string | Buffer): void {
    this.ws.send(text);
  }

  /**
   * The first received message matching `predicate` that no earlier call consumed; fails after
   * the timeout instead of hanging the test.
   */
  nextMessage(predicate: (message: DdpMessage) => boolean = () => true, timeoutMs = this.timeoutMs): Promise<DdpMessage> {
    const at = this.unconsumed.findIndex(predicate);
    if (at >= 0) return Promise.resolve(this.unconsumed.splice(at, 1)[0] as DdpMessage);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching DDP message within ${timeoutMs} ms; received: ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Calls a method; resolves with its `result` message (the `updated` stays unconsumed). */
  async call(method: string, params: unknown[] = []): Promise<DdpMessage> {
    const id = this.newId();
    this.send({ msg: 'method', id, method, params });
    return this.nextMessage((m) => m.msg === 'result' && m.id === id);
  }

  /** Subscribes; resolves with the `ready` or `nosub` that answers it. */
  async subscribe(name: string, params: unknown[] = [], id = this.newId()): Promise<DdpMessage> {
    this.send({ msg: 'sub', id, name, params });
    return this.nextMessage((m) => (m.msg === 'ready' && Array.isArray(m.subs) && m.subs.includes(id)) || (m.msg === 'nosub' && m.id === id));
  }

  newId(): string {
    this.nextId += 1;
    return `c${this.nextId}`;
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }

  private onMessage(text: string): void {
    const message = EJSON.parse(text) as DdpMessage;
    this.received.push(message);
    if (this.autoPong && message.msg === 'ping') {
      this.send(Object.hasOwn(message, 'id') ? { msg: 'pong', id: message.id } : { msg: 'pong' });
      return;
    }
    for (const waiter of this.waiters) {
      if (waiter.predicate(message)) {
        this.waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    this.unconsumed.push(message);
  }
}

export interface TestDdpServer {
  ddp: DdpServer;
  http: Server;
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Closes the DDP server, then the HTTP server. */
  stop(): Promise<void>;
}

/** A `DdpServer` on a free loopback port, silent unless a logger is given. */
export async function startDdpServer(options: DdpServerOptions = {}): Promise<TestDdpServer> {
  const ddp = new DdpServer({ logger: createLogger('silent'), ...options });
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  ddp.attach(http);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    ddp,
    http,
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      await ddp.close(1000);
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
