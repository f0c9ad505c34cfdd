/**
 * A connection to a Cumulus server that survives the server going away: calls are promises
 * that reject with `DisconnectedError` when the socket drops (simpleddp would leave them
 * pending forever), the socket is reopened with backoff, the token is sent again before
 * anything else, and subscriptions and owners (job queues, waiters) get to re-sync.
 */
import { closeHandshakeMs } from '../shared/constants.ts';
import { reconnectDelay } from './backoff.ts';
import { connectDefaults, endpointOf, warn, type ConnectOptions } from './connection-options.ts';
import { forgetConnection, useConnection } from './connection-registry.ts';
import { DdpLink, type DDPMessage } from './ddp-link.ts';
import { ConnectionClosedError, DisconnectedError } from './errors.ts';
import { Heartbeat } from './heartbeat.ts';
import { Listeners } from './listeners.ts';
import { PendingCalls, type ResultMessage } from './pending-calls.ts';
import { Subscriptions, type Subscription } from './subscriptions.ts';

/** Where a connection is in its life. Calls made while not `ready` wait (unsent) until it is. */
export type ConnectionState = 'connecting' | 'logging-in' | 'ready' | 'reconnecting' | 'closed';

/** An `added`, `changed` or `removed` message of a subscription. */
export interface DataMessage {
  msg: 'added' | 'changed' | 'removed';
  collection: string;
  id: string;
  fields?: Record<string, unknown>;
  cleared?: string[];
}

/** What `login` answers (Meteor's shape). */
export interface LoginResult {
  id: string;
  token: string;
  tokenExpires: Date;
  type: string;
}

interface GatedCall {
  method: string;
  params: unknown[];
  resolve(result: unknown): void;
  reject(error: Error): void;
}

interface ReadyWaiter {
  resolve(): void;
  reject(error: Error): void;
}


/**
 * A DDP connection to Cumulus over simpleddp and `ws`. Create it with {@link connect}.
 */
export class CumulusConnection {
  /** The websocket endpoint, e.g. `ws://127.0.0.1:3000/websocket`. */
  readonly endpoint: string;
  #state: ConnectionState = 'connecting';
  readonly #options: ConnectOptions;
  readonly #link: DdpLink;
  readonly #pending = new PendingCalls();
  readonly #gate: GatedCall[] = [];
  readonly #subscriptions: Subscriptions;
  readonly #heartbeat: Heartbeat;
  readonly #readyWaiters = new Set<ReadyWaiter>();
  readonly #reconnectListeners = new Listeners<[]>();
  readonly #disconnectListeners = new Listeners<[]>();
  readonly #dataListeners = new Listeners<[DataMessage]>();
  #attempt = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #everReady = false;
  #userId: string | null = null;
  #socketClosed: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  /** Prefer {@link connect}, which also waits for the connection and makes it the default. */
  constructor(url: string, options: ConnectOptions = {}) {
    this.endpoint = endpointOf(url);
    this.#options = options;
    this.#link = new DdpLink(this.endpoint, { message: (m) => this.#onMessage(m), closed: () => this.#onClosed() }, options.WebSocket);
    this.#subscriptions = new Subscriptions(this.#link, (error) => this.#report(error));
    this.#heartbeat = new Heartbeat(options.heartbeatMs ?? connectDefaults.heartbeatMs, {
      ping: (id) => this.#link.send({ msg: 'ping', id }),
      dead: () => this.#link.cut(),
    });
    this.#link.open();
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Connected and logged in: calls go out at once. */
  get connected(): boolean {
    return this.#state === 'ready';
  }

  /** The user id the server gave the token, or null without a token. */
  get userId(): string | null {
    return this.#userId;
  }

  /** Calls a DDP method: `call('queue_getJob', id)`. */
  call<T = unknown>(method: string, ...params: unknown[]): Promise<T> {
    return this.apply<T>(method, params);
  }

  /**
   * Calls a DDP method with an array of params. While the connection is down the call waits,
   * unsent, for the next login; a call already sent when the socket drops rejects with
   * {@link DisconnectedError}; after {@link close} every call rejects with
   * {@link ConnectionClosedError}.
   */
  apply<T = unknown>(method: string, params: unknown[]): Promise<T> {
    if (this.#state === 'closed') return Promise.reject(new ConnectionClosedError(method));
    if (this.#state === 'ready') return this.#send(method, params) as Promise<T>;
    return new Promise<unknown>((resolve, reject) => this.#gate.push({ method, params, resolve, reject })) as Promise<T>;
  }

  /** Resolves once connected and logged in (at once if so now); rejects when closed. */
  whenReady(): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(new ConnectionClosedError('whenReady'));
    return new Promise((resolve, reject) => this.#readyWaiters.add({ resolve, reject }));
  }

  /**
   * Called after every reconnect, once logged in again and before calls that waited for the
   * connection go out: the moment for owners to re-sync their state with the server.
   */
  onReconnect(listener: () => void): () => void {
    return this.#reconnectListeners.add(listener);
  }

  /** Called when an established connection drops (its pending calls have just been rejected). */
  onDisconnect(listener: () => void): () => void {
    return this.#disconnectListeners.add(listener);
  }

  /** Receives every `added`/`changed`/`removed` message. */
  onData(listener: (message: DataMessage) => void): () => void {
    return this.#dataListeners.add(listener);
  }

  /**
   * Subscribes to a publication, e.g. `subscribe('queue.jobs', {ids: [id]})`. The subscription
   * is sent after login and again after every reconnect; documents arrive through {@link onData}.
   */
  subscribe(name: string, ...params: unknown[]): Subscription {
    if (this.#state === 'closed') throw new ConnectionClosedError(`subscribe ${name}`);
    return this.#subscriptions.add(name, params, this.#state === 'ready');
  }

  /** Drops the socket (gracefully: what was sent still goes out) and reconnects. */
  reconnect(): void {
    if (this.#state === 'closed') return;
    if (this.#link.active) this.#link.drop();
  }

  /** Closes the connection for good: calls still pending reject with ConnectionClosedError. */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    this.#state = 'closed';
    forgetConnection(this);
    clearTimeout(this.#reconnectTimer);
    this.#heartbeat.stop();
    for (const call of this.#gate.splice(0)) call.reject(new ConnectionClosedError(call.method));
    this.#pending.rejectAll((method) => new ConnectionClosedError(method));
    this.#subscriptions.clear(new ConnectionClosedError('subscribe'));
    this.#settleReadyWaiters(new ConnectionClosedError('connect'));
    if (!this.#link.active) return;
    const closed = new Promise<void>((resolve) => (this.#socketClosed = resolve));
    this.#link.close();
    const timer = setTimeout(() => {
      this.#link.cut();
      this.#socketClosed?.();
    }, closeHandshakeMs);
    await closed;
    clearTimeout(timer);
  }

  #send(method: string, params: unknown[]): Promise<unknown> {
    let id: string;
    try {
      id = this.#link.method(method, params);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.#pending.add(id, method);
  }

  #onMessage(message: DDPMessage): void {
    this.#heartbeat.heardFrom();
    switch (message.msg) {
      case 'connected':
        this.#onConnected();
        break;
      case 'result':
        this.#pending.settle(message as ResultMessage);
        break;
      case 'ready':
        this.#subscriptions.readyMessage(message.subs);
        break;
      case 'nosub':
        this.#subscriptions.nosubMessage(message.id, message.error);
        break;
      case 'added':
      case 'changed':
      case 'removed':
        if (typeof message.collection === 'string' && typeof message.id === 'string') {
          this.#dataListeners.emit((error) => this.#report(error), message as unknown as DataMessage);
        }
        break;
      case 'error':
        this.#report(new Error(`The Cumulus server refused a message: ${String(message.reason)}`));
        break;
      default:
    }
  }

  #onConnected(): void {
    if (this.#state === 'closed') return;
    this.#heartbeat.start();
    const token = this.#options.token;
    if (token === undefined) {
      this.#becomeReady();
      return;
    }
    // The login goes out before anything else: calls made meanwhile wait behind the gate.
    this.#state = 'logging-in';
    (this.#send('login', [{ resume: token }]) as Promise<LoginResult>).then(
      (result) => {
        this.#userId = result.id;
        this.#becomeReady();
      },
      (error: unknown) => {
        if (error instanceof DisconnectedError || this.#state === 'closed') return;
        if (!this.#everReady) {
          // A refused token at start is the caller's problem: connect() rejects with it.
          this.#settleReadyWaiters(error as Error);
          this.close().catch((closing: unknown) => this.#report(closing));
          return;
        }
        // A token refused after a reconnect: carry on logged out, so calls fail with 403s.
        this.#report(error);
        this.#userId = null;
        this.#becomeReady();
      },
    );
  }

  #becomeReady(): void {
    const reconnected = this.#everReady;
    this.#state = 'ready';
    this.#everReady = true;
    this.#attempt = 0;
    this.#subscriptions.resume();
    if (reconnected) this.#reconnectListeners.emit((error) => this.#report(error));
    // An owner's re-sync may have closed the connection.
    if (this.#state !== 'ready') return;
    for (const call of this.#gate.splice(0)) this.#send(call.method, call.params).then(call.resolve, call.reject);
    this.#settleReadyWaiters();
  }

  #onClosed(): void {
    this.#heartbeat.stop();
    this.#subscriptions.disconnected();
    if (this.#state === 'closed') {
      this.#socketClosed?.();
      return;
    }
    const wasUp = this.#state === 'ready' || this.#state === 'logging-in';
    this.#state = 'reconnecting';
    this.#pending.rejectAll((method) => new DisconnectedError(method));
    if (wasUp) this.#disconnectListeners.emit((error) => this.#report(error));
    const delay = reconnectDelay(this.#attempt, {
      initialMs: this.#options.reconnectDelayMs ?? connectDefaults.reconnectDelayMs,
      maxMs: this.#options.maxReconnectDelayMs ?? connectDefaults.maxReconnectDelayMs,
    });
    this.#attempt += 1;
    this.#reconnectTimer = setTimeout(() => {
      if (this.#state === 'reconnecting') {
        this.#state = 'connecting';
        this.#link.open();
      }
    }, delay);
  }

  #settleReadyWaiters(error?: Error): void {
    const waiters = [...this.#readyWaiters];
    this.#readyWaiters.clear();
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }

  /** Gives an error to `onError` (default: a process warning). Never throws: it runs in handlers. */
  #report(error: unknown): void {
    const asError = error instanceof Error ? error : new Error(String(error));
    const { onError } = this.#options;
    if (onError === undefined) {
      warn(asError);
      return;
    }
    try {
      onError(asError);
    } catch (thrown) {
      warn(new Error(`CumulusConnection: onError threw (${String(thrown)}) on: ${asError.message}`, { cause: asError }));
    }
  }
}

/**
 * Opens a connection to a Cumulus server and waits until it is connected (and logged in, with a
 * token). `url` is `ws://host:port/websocket` or just `http://host:port`. Unless
 * `setAsDefault: false`, `Job` uses it for every root without a connection of its own.
 *
 * @example
 * const connection = await connect('http://127.0.0.1:3000', { token: process.env.CUMULUS_TOKEN });
 * await new Job('queue', 'email', { to: 'a@example.com' }).save();
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<CumulusConnection> {
  const connection = new CumulusConnection(url, options);
  const timeoutMs = options.connectTimeoutMs ?? connectDefaults.connectTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Could not connect to ${connection.endpoint} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([connection.whenReady(), timedOut]);
  } catch (error) {
    await connection.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (options.setAsDefault ?? connectDefaults.setAsDefault) useConnection(connection);
  return connection;
}
