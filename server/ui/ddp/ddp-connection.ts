/**
 * A small DDP client for the browser, over the native WebSocket with EJSON: what the Weather
 * Station needs and no more — method calls, subscriptions with their documents kept per
 * collection, login with a resume token, reconnection that logs in and subscribes again, and a
 * watchdog that takes a silent link for dead (a sleeping laptop, a dropped route: the socket
 * may never tell).
 * (No maintained browser DDP library exists; the protocol is docs/PROTOCOL.md §1.)
 */
import EJSON from 'ejson';
import { fromEjsonText } from '../../../shared/ejson-text.ts';

export type Doc = Record<string, unknown> & { _id: string };

/** A Meteor-style error answered by a method or a subscription. */
export class DdpError extends Error {
  constructor(
    readonly error: string | number,
    readonly reason: string | undefined,
    readonly details: string | undefined,
  ) {
    super(reason ?? String(error));
    this.name = 'DdpError';
  }
}

type Status = 'connecting' | 'connected' | 'offline';

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
  message: Record<string, unknown>;
  /** Sent on the current socket: if it drops, the call may or may not have run. */
  sent: boolean;
}

interface Subscription {
  id: string;
  name: string;
  params: unknown[];
  ready: boolean;
  onReady: Set<() => void>;
  onError: Set<(error: DdpError) => void>;
  /** Told when the connection comes back: the documents start afresh until the next `ready`. */
  onReset: Set<() => void>;
}

const reconnectDelaysMs = [500, 1000, 2000, 5000];

export interface DdpConnectionOptions {
  /**
   * After this long without a message the client pings the server; after twice as long the link
   * is dead and a new one is opened. Meteor's default heartbeat interval.
   */
  heartbeatMs?: number;
}

export class DdpConnection {
  readonly #url: string;
  #socket: WebSocket | undefined;
  #status: Status = 'connecting';
  #nextId = 1;
  #attempt = 0;
  #token: string | undefined;
  readonly #calls = new Map<string, PendingCall>();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #collections = new Map<string, Map<string, Doc>>();
  /** Per collection, how many times its documents changed (see `version`). */
  readonly #versions = new Map<string, number>();
  readonly #listeners = new Set<() => void>();
  readonly #heartbeatMs: number;
  #lastHeard = 0;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #authLost = new Set<() => void>();

  constructor(url: string, options: DdpConnectionOptions = {}) {
    this.#url = url;
    this.#heartbeatMs = options.heartbeatMs ?? 17_500;
    this.#open();
  }

  /** Stops for good: the socket is closed and never opened again. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#watchdog);
    this.#socket?.close();
  }

  get status(): Status {
    return this.#status;
  }

  /** Called after every change of the documents or of the connection's status. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Called when the token kept for reconnections is refused (changed on the server, say). */
  onAuthLost(listener: () => void): () => void {
    this.#authLost.add(listener);
    return () => {
      this.#authLost.delete(listener);
    };
  }

  /** The documents of a collection, as the subscriptions have them now. */
  documents(collection: string): Map<string, Doc> {
    return this.#collections.get(collection) ?? new Map();
  }

  /** A number that changes whenever the collection's documents do: what a view of them is derived from. */
  version(collection: string): number {
    return this.#versions.get(collection) ?? 0;
  }

  /**
   * Calls a method. A call made while offline is sent once connected; a call whose answer is
   * lost with the connection is refused (`connection-lost`), never sent again: it may have run,
   * and running an action twice is worse than asking the person to look and try again.
   */
  call<T = unknown>(method: string, ...params: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = String(this.#nextId++);
      const call: PendingCall = { resolve: resolve as (value: unknown) => void, reject, message: { msg: 'method', method, params, id }, sent: false };
      this.#calls.set(id, call);
      if (this.#status === 'connected') this.#sendCall(call);
    });
  }

  /** Logs in with a token (DDP `login {resume}`); kept and used again after a reconnect. */
  async login(token: string): Promise<void> {
    await this.call('login', { resume: token });
    this.#token = token;
  }

  subscribe(
    name: string,
    params: unknown[],
    handlers: { onReady?: () => void; onError?: (error: DdpError) => void; onReset?: () => void } = {},
  ): () => void {
    const subscription: Subscription = { id: `s${this.#nextId++}`, name, params, ready: false, onReady: new Set(), onError: new Set(), onReset: new Set() };
    if (handlers.onReady) subscription.onReady.add(handlers.onReady);
    if (handlers.onError) subscription.onError.add(handlers.onError);
    if (handlers.onReset) subscription.onReset.add(handlers.onReset);
    this.#subscriptions.set(subscription.id, subscription);
    if (this.#status === 'connected') this.#send({ msg: 'sub', id: subscription.id, name, params });
    return () => {
      if (!this.#subscriptions.delete(subscription.id)) return;
      if (this.#status === 'connected') this.#send({ msg: 'unsub', id: subscription.id });
    };
  }

  #open(): void {
    if (this.#closed) return;
    this.#status = 'connecting';
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    this.#lastHeard = Date.now();
    clearInterval(this.#watchdog);
    this.#watchdog = setInterval(() => this.#checkLink(socket), this.#heartbeatMs / 4);
    socket.onopen = () => this.#send({ msg: 'connect', version: '1', support: ['1'] });
    // Plain JSON where the frame needs nothing more (most do), EJSON where it does.
    socket.onmessage = (event) => {
      this.#lastHeard = Date.now();
      this.#receive(fromEjsonText(String(event.data)) as Record<string, unknown>);
    };
    socket.onclose = () => this.#lost(socket);
  }

  /** A ping after a heartbeat of silence; after two, the link is dead. */
  #checkLink(socket: WebSocket): void {
    const silentMs = Date.now() - this.#lastHeard;
    if (silentMs >= 2 * this.#heartbeatMs) {
      this.#lost(socket);
      // Closed after being given up: on a dead link its close event may come minutes later.
      socket.close();
    } else if (silentMs >= this.#heartbeatMs && socket.readyState === WebSocket.OPEN) {
      this.#send({ msg: 'ping' });
    }
  }

  /** The socket is gone (closed, or given up by the watchdog): calls in flight fail, and a new one is opened. */
  #lost(socket: WebSocket): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    clearInterval(this.#watchdog);
    this.#status = 'offline';
    for (const [id, call] of this.#calls) {
      if (!call.sent) continue;
      this.#calls.delete(id);
      call.reject(new DdpError('connection-lost', 'Connection lost', 'The connection dropped before the answer: the call may or may not have been applied.'));
    }
    this.#changed();
    if (this.#closed) return;
    const delay = reconnectDelaysMs[Math.min(this.#attempt, reconnectDelaysMs.length - 1)];
    this.#attempt += 1;
    setTimeout(() => this.#open(), delay);
  }

  #send(message: Record<string, unknown>): void {
    this.#socket?.send(EJSON.stringify(message));
  }

  #sendCall(call: PendingCall): void {
    call.sent = true;
    this.#send(call.message);
  }

  #receive(message: Record<string, unknown>): void {
    switch (message.msg) {
      case 'connected':
        void this.#connected();
        return;
      case 'ping':
        this.#send({ msg: 'pong', ...(message.id === undefined ? {} : { id: message.id }) });
        return;
      case 'result': {
        const call = this.#calls.get(String(message.id));
        if (call === undefined) return;
        this.#calls.delete(String(message.id));
        const error = message.error as { error?: string | number; reason?: string; details?: string } | undefined;
        if (error === undefined) call.resolve(message.result);
        else call.reject(new DdpError(error.error ?? 500, error.reason, error.details));
        return;
      }
      case 'added':
      case 'changed':
      case 'removed':
        this.#apply(message);
        return;
      case 'ready':
        for (const id of message.subs as string[]) {
          const subscription = this.#subscriptions.get(id);
          if (subscription === undefined) continue;
          subscription.ready = true;
          for (const listener of subscription.onReady) listener();
        }
        this.#changed();
        return;
      case 'nosub': {
        const subscription = this.#subscriptions.get(String(message.id));
        const error = message.error as { error?: string | number; reason?: string; details?: string } | undefined;
        if (subscription !== undefined && error !== undefined) {
          this.#subscriptions.delete(subscription.id);
          for (const listener of subscription.onError) listener(new DdpError(error.error ?? 500, error.reason, error.details));
        }
        return;
      }
      default:
    }
  }

  /**
   * Connected (again): documents start afresh; the kept token logs in first (the server handles
   * a connection's messages in order), then the calls made while offline and the subscriptions.
   */
  async #connected(): Promise<void> {
    this.#attempt = 0;
    this.#collections.clear();
    for (const [name, version] of this.#versions) this.#versions.set(name, version + 1);
    this.#status = 'connected';
    const token = this.#token;
    if (token !== undefined) {
      const id = String(this.#nextId++);
      const relogin: PendingCall = {
        resolve: () => undefined,
        reject: (error) => {
          // Lost with the connection: the next one logs in again.
          if (this.#token !== token || (error instanceof DdpError && error.error === 'connection-lost')) return;
          this.#token = undefined;
          for (const listener of [...this.#authLost]) listener();
        },
        message: { msg: 'method', method: 'login', params: [{ resume: token }], id },
        sent: false,
      };
      this.#calls.set(id, relogin);
      this.#sendCall(relogin);
    }
    for (const call of this.#calls.values()) if (!call.sent) this.#sendCall(call);
    for (const subscription of this.#subscriptions.values()) {
      subscription.ready = false;
      for (const listener of subscription.onReset) listener();
      this.#send({ msg: 'sub', id: subscription.id, name: subscription.name, params: subscription.params });
    }
    this.#changed();
  }

  #apply(message: Record<string, unknown>): void {
    const name = String(message.collection);
    let collection = this.#collections.get(name);
    if (collection === undefined) this.#collections.set(name, (collection = new Map()));
    this.#versions.set(name, this.version(name) + 1);
    const id = String(message.id);
    const fields = (message.fields ?? {}) as Record<string, unknown>;
    if (message.msg === 'added') {
      collection.set(id, { ...fields, _id: id });
    } else if (message.msg === 'changed') {
      const doc: Doc = { ...(collection.get(id) ?? { _id: id }), ...fields };
      for (const key of (message.cleared as string[] | undefined) ?? []) delete doc[key];
      collection.set(id, doc);
    } else {
      collection.delete(id);
    }
    this.#changed();
  }

  #changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
