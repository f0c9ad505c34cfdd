/**
 * One DDP connection from its first frame to its close, after Meteor's server socket handler and
 * `Session`: the handshake, connection-level errors, pings answered at once, and every other
 * message through the ordered queue (docs/PROTOCOL.md §1.2–§1.5).
 */
import { closeHandshakeMs } from '../../shared/constants.ts';
import { randomId } from '../../shared/random-id.ts';
import type { Logger } from '../logger.ts';
import { negotiate, type DdpVersion } from './handshake.ts';
import { Heartbeat } from './heartbeat.ts';
import { MergeBox } from './merge-box.ts';
import { MessageQueue, type Unblock } from './message-queue.ts';
import { encodeShared } from './encode-cache.ts';
import { Outgoing, type OutgoingOptions } from './outgoing.ts';
import { runMethod, type MethodContext } from './method-invocation.ts';
import { SessionSubscriptions } from './session-subscriptions.ts';
import type { DdpSocket, SocketListener } from './transport.ts';
import type { ConnectionInfo, MethodHandler, PublishHandler } from './types.ts';
import { asMethod, asSub, errorFrame, parseFrame, stringify, type ErrorReason, type IncomingMessage, type WireText } from './wire.ts';

export interface SessionDeps {
  readonly methods: ReadonlyMap<string, MethodHandler>;
  readonly publications: ReadonlyMap<string, PublishHandler>;
  readonly logger: Logger;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly outgoing: OutgoingOptions;
  /** Collections whose documents every publication publishes alike (see `DdpServer.shareDocuments`). */
  isShared(collection: string): boolean;
  /** The handshake succeeded and `connected` has been sent. */
  onConnected(session: Session): void;
}

type State = 'awaiting-connect' | 'open' | 'closed';

/** The close code of a client too slow to read what it is sent (a private-use code, docs/PROTOCOL.md §1.8). */
export const slowClientCloseCode = 4000;

/** What handlers see of a connection: data and a close hook, not the session itself. */
class ConnectionHandle implements ConnectionInfo {
  readonly #currentUser: () => string | null;
  readonly #addCloseCallback: (cb: () => void) => void;

  constructor(
    readonly id: string,
    readonly clientAddress: string | undefined,
    currentUser: () => string | null,
    addCloseCallback: (cb: () => void) => void,
  ) {
    this.#currentUser = currentUser;
    this.#addCloseCallback = addCloseCallback;
  }

  get userId(): string | null {
    return this.#currentUser();
  }

  onClose(cb: () => void): void {
    this.#addCloseCallback(cb);
  }
}

export class Session implements SocketListener, MethodContext {
  readonly id = randomId();
  readonly connection: ConnectionInfo;
  readonly logger: Logger;
  #state: State = 'awaiting-connect';
  #version: DdpVersion = '1';
  #userId: string | null = null;
  #heartbeat: Heartbeat | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  readonly #closeCallbacks: Array<() => void> = [];
  readonly #mergeBox: MergeBox;
  readonly #subscriptions: SessionSubscriptions;
  readonly #queue = new MessageQueue<IncomingMessage>(
    (message, unblock) => this.#process(message, unblock),
    (error) => this.logger.error({ err: error }, 'DDP message handling failed'),
  );
  /** Every started method until its `updated` is sent; close() waits for these. */
  readonly #inFlight = new Set<Promise<void>>();
  // `updated`s wait for fences one after another, so they leave in method order.
  #updatedChain: Promise<void> = Promise.resolve();
  #updatesWaiting = 0;
  #userChange: Promise<void> = Promise.resolve();

  readonly #socket: DdpSocket;
  readonly #deps: SessionDeps;
  /** Everything sent goes through it: held and coalesced while the socket is slow to drain. */
  readonly #outgoing: Outgoing;

  constructor(socket: DdpSocket, deps: SessionDeps) {
    this.#socket = socket;
    this.#deps = deps;
    this.#outgoing = new Outgoing(socket, deps.outgoing, (message) => this.#encode(message), (reason) => this.#closeSlowClient(reason));
    this.#mergeBox = new MergeBox((message) => this.#outgoing.data(message), deps.isShared);
    this.logger = deps.logger.child({ session: this.id });
    this.connection = new ConnectionHandle(this.id, socket.clientAddress, () => this.#userId, (cb) => this.#addCloseCallback(cb));
    this.#subscriptions = new SessionSubscriptions({
      connection: this.connection,
      mergeBox: this.#mergeBox,
      logger: this.logger,
      publications: deps.publications,
      send: (message) => this.#send(message),
    });
    // A socket that never says `connect` would otherwise hold its resources forever.
    this.#handshakeTimer = setTimeout(() => {
      if (this.#state !== 'awaiting-connect') return;
      this.logger.info('no connect message in time; closing the socket');
      this.close();
    }, deps.handshakeTimeoutMs);
  }

  get methods(): ReadonlyMap<string, MethodHandler> {
    return this.#deps.methods;
  }

  receive(text: string): void {
    if (this.#state === 'closed') return;
    this.#heartbeat?.messageReceived();
    const parsed = parseFrame(text);
    if (parsed.kind === 'error') return this.#sendError(parsed.reason);
    const message = parsed.message;
    if (!message.msg) return this.#sendError('Bad request', message);
    if (message.msg === 'connect') {
      if (this.#state === 'open') return this.#sendError('Already connected', message);
      return this.#connect(message);
    }
    if (this.#state !== 'open') return this.#sendError('Must connect first', message);
    // Outside the queue, so a ping is answered while a method runs. pre1 knows no pings.
    if (this.#version !== 'pre1' && message.msg === 'ping') {
      this.#send(Object.hasOwn(message, 'id') ? { msg: 'pong', id: message.id } : { msg: 'pong' });
      return;
    }
    if (this.#version !== 'pre1' && message.msg === 'pong') return;
    this.#queue.push(message);
  }

  /** Closes the connection from the server side; the client is sent nothing more. */
  close(code?: number, reason?: string): void {
    if (this.#state === 'closed') return;
    this.#socket.close(code, reason);
    this.#dropState();
  }

  /** Stops starting queued messages and resolves when the started methods have finished. */
  async drain(): Promise<void> {
    this.#queue.stop();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** The socket closed: drop all state, stop subscriptions, send nothing. */
  socketClosed(): void {
    this.#dropState();
  }

  setUserId(userId: string | null): void {
    this.#userId = userId;
    this.#userChange = this.#userChange
      .then(() => (this.#state === 'closed' ? undefined : this.#subscriptions.rerun(userId)))
      .catch((error: unknown) => this.logger.error({ err: error }, 'subscription re-run failed'));
  }

  userChangeSettled(): Promise<void> {
    return this.#userChange;
  }

  sendText(text: string): void {
    if (this.#state !== 'closed') this.#outgoing.text(text);
  }

  sendUpdatedAfterFence(id: string): Promise<void> {
    // Without anything to flush, `updated` goes out at once, before the next message starts.
    if (this.#updatesWaiting === 0 && this.#subscriptions.fences().length === 0) {
      this.#send({ msg: 'updated', methods: [id] });
      return Promise.resolve();
    }
    this.#updatesWaiting += 1;
    this.#updatedChain = this.#updatedChain.then(async () => {
      const results = await Promise.allSettled(this.#subscriptions.fences().map(async (flush) => flush()));
      for (const result of results) {
        if (result.status === 'rejected') this.logger.error({ err: result.reason }, 'write fence flush failed');
      }
      this.#updatesWaiting -= 1;
      this.#send({ msg: 'updated', methods: [id] });
    });
    return this.#updatedChain;
  }

  #connect(message: IncomingMessage): void {
    const result = negotiate(message);
    if (!result.ok) {
      this.#send({ msg: 'failed', version: result.suggest });
      this.close();
      return;
    }
    this.#version = result.version;
    this.#state = 'open';
    clearTimeout(this.#handshakeTimer);
    // The client's `session` is ignored: DDP sessions cannot be resumed.
    this.#send({ msg: 'connected', session: this.id });
    if (this.#version !== 'pre1' && this.#deps.heartbeatIntervalMs > 0) {
      this.#heartbeat = new Heartbeat({
        intervalMs: this.#deps.heartbeatIntervalMs,
        timeoutMs: this.#deps.heartbeatTimeoutMs,
        sendPing: () => this.#send({ msg: 'ping' }),
        onTimeout: () => {
          this.logger.info('heartbeat timed out; closing the connection');
          this.close();
        },
      });
      this.#heartbeat.start();
    }
    this.#deps.onConnected(this);
  }

  async #process(message: IncomingMessage, unblock: Unblock): Promise<void> {
    switch (message.msg) {
      case 'method': {
        const call = asMethod(message);
        if (call === undefined) return this.#sendError('Malformed method invocation', message);
        const running = runMethod(this, call, unblock).catch((error: unknown) => {
          this.logger.error({ err: error }, 'method failed');
        });
        this.#inFlight.add(running);
        void running.finally(() => this.#inFlight.delete(running));
        return running;
      }
      case 'sub': {
        const sub = asSub(message);
        if (sub === undefined) return this.#sendError('Malformed subscription', message);
        return this.#subscriptions.start(sub);
      }
      case 'unsub':
        return this.#subscriptions.unsub(message.id);
      default:
        return this.#sendError('Bad request', message);
    }
  }

  /**
   * The client has not read what it was sent for too long: it goes, so that it costs no more
   * memory. The close frame waits behind the unread data, so the socket is cut soon after.
   */
  #closeSlowClient(reason: string): void {
    this.logger.warn({ bufferedBytes: this.#socket.bufferedAmount }, `closing a connection that does not read: ${reason}`);
    this.close(slowClientCloseCode, reason);
    setTimeout(() => this.#socket.terminate(), closeHandshakeMs).unref();
  }

  #addCloseCallback(cb: () => void): void {
    if (this.#state === 'closed') this.#callSafely(cb);
    else this.#closeCallbacks.push(cb);
  }

  #dropState(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#handshakeTimer);
    this.#heartbeat?.stop();
    this.#queue.stop();
    this.#outgoing.close();
    this.#subscriptions.stopAll();
    this.#mergeBox.clear();
    for (const cb of this.#closeCallbacks.splice(0)) this.#callSafely(cb);
  }

  #callSafely(cb: () => unknown): void {
    const log = (error: unknown) => this.logger.error({ err: error }, 'onClose callback failed');
    try {
      const result = cb();
      if (result instanceof Promise) result.catch(log);
    } catch (error) {
      log(error);
    }
  }

  #sendError(reason: ErrorReason, offendingMessage?: IncomingMessage): void {
    // An offending message too deep to encode again still deserves its error frame.
    if (!this.#send(errorFrame(reason, offendingMessage)) && offendingMessage !== undefined) this.#send(errorFrame(reason));
  }

  /** False when the message could not be encoded. */
  #send(message: object): boolean {
    if (this.#state === 'closed') return true;
    const text = this.#encode(message);
    if (text === undefined) return false;
    this.#outgoing.text(text);
    return true;
  }

  #encode(message: object): WireText | undefined {
    try {
      return encodeShared(message) ?? stringify(message);
    } catch (error) {
      this.logger.error({ err: error }, 'DDP message cannot be encoded');
      return undefined;
    }
  }
}
