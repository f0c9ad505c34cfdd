/**
 * The DDP server facade: a registry of methods and publications, the sessions of the attached
 * HTTP servers, and an orderly close.
 */
import type { Server as HttpServer } from 'node:http';
import { closeHandshakeMs } from '../../shared/constants.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { OutgoingOptions } from './outgoing.ts';
import { Session } from './session.ts';
import { WebSocketTransport, type DdpSocket } from './transport.ts';
import type { ConnectionInfo, DdpServerOptions, MethodHandler, PublishHandler } from './types.ts';

/** Every option with its default (Meteor's heartbeat timings; a frame limit far above any job). */
export const ddpServerDefaults = {
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 15_000,
  handshakeTimeoutMs: 30_000,
  maxMessageBytes: 16 * 1024 * 1024,
  closeTimeoutMs: 10_000,
  /** Bytes waiting in a socket past which changes are held and coalesced (a slow reader). */
  maxBufferedBytes: 4 * 1024 * 1024,
  /** How long a socket may stay over `maxBufferedBytes` before its connection is closed. */
  slowClientTimeoutMs: 30_000,
  /** Sockets get this long to finish their close handshake at shutdown before they are cut. */
  closeHandshakeMs,
} as const;

/**
 * A DDP server (docs/PROTOCOL.md §1) for Meteor clients such as `ddp`, `simpleddp` and meteor-job.
 * Register methods and publications, then `attach` it to an HTTP server.
 */
export class DdpServer {
  readonly #methods = new Map<string, MethodHandler>();
  readonly #publications = new Map<string, PublishHandler>();
  readonly #sharedCollections = new Set<string>();
  readonly #sessions = new Map<Session, DdpSocket>();
  readonly #connectHooks: Array<(connection: ConnectionInfo) => void> = [];
  readonly #logger: Logger;
  readonly #transport: WebSocketTransport;
  readonly #heartbeatIntervalMs: number;
  readonly #heartbeatTimeoutMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #outgoing: OutgoingOptions;
  readonly #onMethodDone: DdpServerOptions['onMethodDone'];
  #closing: Promise<void> | undefined;

  /** Options default to `ddpServerDefaults`; the logger to `createLogger()`. */
  constructor(options: DdpServerOptions = {}) {
    this.#logger = options.logger ?? createLogger();
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? ddpServerDefaults.heartbeatIntervalMs;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? ddpServerDefaults.heartbeatTimeoutMs;
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? ddpServerDefaults.handshakeTimeoutMs;
    this.#onMethodDone = options.onMethodDone;
    this.#outgoing = {
      maxBufferedBytes: options.maxBufferedBytes ?? ddpServerDefaults.maxBufferedBytes,
      slowClientTimeoutMs: options.slowClientTimeoutMs ?? ddpServerDefaults.slowClientTimeoutMs,
    };
    this.#transport = new WebSocketTransport({
      maxPayload: options.maxMessageBytes ?? ddpServerDefaults.maxMessageBytes,
      logger: this.#logger,
      ...(options.checkUpgrade === undefined ? {} : { checkUpgrade: options.checkUpgrade }),
      onSocket: (socket) => this.#openSession(socket),
    });
  }

  /** Registers a method under `name`. Throws if one is already registered. */
  method(name: string, handler: MethodHandler): void {
    if (this.#methods.has(name)) throw new Error(`A method named '${name}' is already defined`);
    this.#methods.set(name, this.#onMethodDone === undefined ? handler : timed(name, handler, this.#onMethodDone));
  }

  /**
   * Declares that every publication publishing a document of `collection` publishes the same
   * fields for it (as live queries over one store do): connections then count who holds a
   * document instead of keeping a copy of it in their merge box, and what is published goes to
   * every connection unchanged (its encoding shared). Before any connection opens.
   */
  shareDocuments(collection: string): void {
    this.#sharedCollections.add(collection);
  }

  /** Registers a publication under `name`. Throws if one is already registered. */
  publish(name: string, handler: PublishHandler): void {
    if (this.#publications.has(name)) throw new Error(`A publication named '${name}' is already defined`);
    this.#publications.set(name, handler);
  }

  /**
   * Handles websocket upgrades on `/websocket` and `/websocket/` of an existing node:http server.
   * Upgrades on other paths are left to other listeners, or refused with 404 when there are none.
   */
  attach(server: HttpServer): void {
    this.#transport.attach(server);
  }

  /** Calls `cb` for every connection once its handshake has succeeded. */
  onConnect(cb: (connection: ConnectionInfo) => void): void {
    this.#connectHooks.push(cb);
  }

  /** Open websocket connections, including those still before their handshake. */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Stop accepting, wait for in-flight methods to finish (bounded by timeoutMs), then close every
   * socket. Messages not yet started are dropped; their clients see the disconnect.
   */
  close(timeoutMs: number = ddpServerDefaults.closeTimeoutMs): Promise<void> {
    this.#closing ??= this.#shutdown(timeoutMs);
    return this.#closing;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#transport.stopAccepting();
    const sessions = [...this.#sessions.keys()];
    const drained = Promise.all(sessions.map((session) => session.drain()));
    if (!(await settlesWithin(drained, timeoutMs))) {
      this.#logger.warn({ timeoutMs }, 'methods still running at shutdown; closing their connections anyway');
    }
    const sockets = [...this.#sessions.values()];
    for (const session of [...this.#sessions.keys()]) session.close(1001, 'Server shutting down');
    const closed = Promise.all(sockets.map((socket) => socket.closed));
    if (!(await settlesWithin(closed, ddpServerDefaults.closeHandshakeMs))) {
      for (const socket of sockets) socket.terminate();
    }
    this.#transport.detach();
  }

  #openSession(socket: DdpSocket): Session {
    const session = new Session(socket, {
      methods: this.#methods,
      publications: this.#publications,
      logger: this.#logger,
      heartbeatIntervalMs: this.#heartbeatIntervalMs,
      heartbeatTimeoutMs: this.#heartbeatTimeoutMs,
      handshakeTimeoutMs: this.#handshakeTimeoutMs,
      outgoing: this.#outgoing,
      isShared: (collection) => this.#sharedCollections.has(collection),
      onConnected: (connected) => this.#runConnectHooks(connected.connection),
    });
    this.#sessions.set(session, socket);
    void socket.closed.then(() => this.#sessions.delete(session));
    return session;
  }

  #runConnectHooks(connection: ConnectionInfo): void {
    for (const hook of this.#connectHooks) {
      try {
        hook(connection);
      } catch (error) {
        this.#logger.error({ err: error }, 'onConnect hook failed');
      }
    }
  }
}

/** Waits for `promise` at most `ms`; true when it settled in time. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** `handler`, telling `done` how long each call took and whether it threw. */
function timed(name: string, handler: MethodHandler, done: NonNullable<DdpServerOptions['onMethodDone']>): MethodHandler {
  return async (invocation, params) => {
    const started = performance.now();
    try {
      const result = await handler(invocation, params);
      done(name, (performance.now() - started) / 1000, 'ok');
      return result;
    } catch (error) {
      done(name, (performance.now() - started) / 1000, 'error');
      throw error;
    }
  };
}
