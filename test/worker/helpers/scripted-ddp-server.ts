/**
 * A scripted DDP server on a free loopback port: it completes the handshake, records every
 * message in arrival order, and answers methods as the test says (or never). For the client
 * behaviour a real server cannot be made to show on demand: calls left unanswered at a
 * disconnect, the exact order of messages after a reconnect, a server that goes silent.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import EJSON from 'ejson';
import { WebSocketServer, type WebSocket } from 'ws';

export type Message = Record<string, unknown> & { msg?: string };

/** Answers a method: a value to send as `result`, `{error}` to fail it, or `hang` to never answer. */
export type MethodScript = (method: string, params: unknown[], socket: number) => unknown;
export const hang = Symbol('hang');

export interface Received {
  /** Which connection (1, 2, …) it came on. */
  socket: number;
  message: Message;
}

export class ScriptedDdpServer {
  readonly received: Received[] = [];
  /** Answer pings (a real server does); a silent server lets the client's heartbeat fire. */
  answerPings = true;
  private readonly sockets = new Set<WebSocket>();
  private socketCount = 0;
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly script: MethodScript,
  ) {
    wss.on('connection', (ws) => this.accept(ws));
  }

  static async start(script: MethodScript = () => true): Promise<ScriptedDdpServer> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, path: '/websocket' });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    return new ScriptedDdpServer(http, wss, script);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/websocket`;
  }

  get connections(): number {
    return this.socketCount;
  }

  /** Method calls received so far, as `[socket, method]` pairs. */
  methods(): [number, string][] {
    return this.received.filter((r) => r.message.msg === 'method').map((r) => [r.socket, r.message.method as string]);
  }

  /** Resolves once `predicate` holds for what was received (checked after each message). */
  async until(predicate: (received: readonly Received[]) => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate(this.received)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error('scripted server: condition not met in time'));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate(this.received)) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  /** Closes every client socket (the server keeps listening). */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    this.socketCount += 1;
    const socket = this.socketCount;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data) => {
      const message = EJSON.parse(data.toString()) as Message;
      this.received.push({ socket, message });
      this.respond(ws, socket, message);
      for (const listener of [...this.listeners]) listener();
    });
  }

  private respond(ws: WebSocket, socket: number, message: Message): void {
    const send = (reply: Message): void => ws.send(EJSON.stringify(reply));
    switch (message.msg) {
      case 'connect':
        send({ msg: 'connected', session: `session-${socket}` });
        return;
      case 'ping':
        if (this.answerPings) send({ msg: 'pong', ...(message.id === undefined ? {} : { id: message.id }) });
        return;
      case 'sub':
        send({ msg: 'ready', subs: [message.id] });
        return;
      case 'unsub':
        send({ msg: 'nosub', id: message.id });
        return;
      case 'method': {
        const answer = this.script(message.method as string, (message.params as unknown[] | undefined) ?? [], socket);
        if (answer === hang) return;
        const isError = typeof answer === 'object' && answer !== null && 'error' in answer;
        send({ msg: 'result', id: message.id, ...(isError ? { error: (answer as { error: unknown }).error } : { result: answer }) });
        send({ msg: 'updated', methods: [message.id] });
        return;
      }
      default:
    }
  }
}
