/**
 * The one place that knows simpleddp's internals. simpleddp (over `ws`) gives us the socket,
 * the DDP handshake, answers to server pings and EJSON; everything it would do on top — method
 * promises that hang at a disconnect, a fixed 10 s reconnect, subscriptions restarted before
 * any login, an unhandled rejection on `nosub` with an error — is left unused. Messages are
 * taken from the socket wrapper's synchronous event instead of the core's events, which simpleddp
 * defers by a timer tick each.
 */
import simpleDDPModule, { type DDPCore, type DDPMessage } from 'simpleddp';
import WebSocket from 'ws';
import { registerEjsonTypes } from '../shared/ejson-types.ts';

// simpleddp decodes with the process-wide ejson module, and drops a frame it cannot decode
// (hanging the call it answers): it must know every type the server may send back.
registerEjsonTypes();

// simpleddp is CommonJS with `exports.default`: under ESM the class sits one level down.
const SimpleDDP = (simpleDDPModule as unknown as { default?: typeof simpleDDPModule }).default ?? simpleDDPModule;

export type { DDPMessage };

export interface DdpLinkHandlers {
  /** Every message from the server, in order, synchronously. */
  message(message: DDPMessage): void;
  /** The socket closed or could not be opened. Called once per `open()`. */
  closed(): void;
}

export class DdpLink {
  readonly #core: DDPCore;
  /** Whether the current socket has not reported its close yet (ws may report it twice). */
  #open = false;

  constructor(endpoint: string, handlers: DdpLinkHandlers, SocketConstructor: unknown = WebSocket) {
    const client = new SimpleDDP({
      endpoint,
      SocketConstructor,
      autoConnect: false,
      autoReconnect: false,
      clearDataOnReconnection: false,
    });
    this.#core = client.ddpConnection;
    this.#core.socket.on('message:in', (message) => handlers.message(message));
    this.#core.socket.on('close', () => {
      if (!this.#open) return;
      this.#open = false;
      handlers.closed();
    });
  }

  /** Opens a socket; simpleddp sends `connect` once it is open. */
  open(): void {
    this.#open = true;
    this.#core.connect();
  }

  /** Whether the DDP handshake is done and the socket is up. */
  get connected(): boolean {
    return this.#core.status === 'connected' && this.#core.socket.rawSocket !== null;
  }

  /**
   * Sends a method call; answers its id. Only call while `connected`. Throws when the params
   * cannot be encoded (a BigInt, a cycle), after taking the message back out of simpleddp's
   * outgoing queue, where it would otherwise block every later message.
   */
  method(name: string, params: unknown[]): string {
    try {
      return this.#core.method(name, params);
    } catch (error) {
      this.#core.messageQueue.queue.shift();
      throw error;
    }
  }

  sub(name: string, params: unknown[]): string {
    return this.#core.sub(name, params);
  }

  unsub(id: string): void {
    this.#core.unsub(id);
  }

  /** Sends a raw message (a heartbeat ping) if the socket is up. */
  send(message: Record<string, unknown>): void {
    if (this.connected) this.#core.socket.send(message);
  }

  /** Closes the socket gracefully: what was sent before still goes out. */
  drop(): void {
    this.#core.socket.close();
  }

  /** Cuts the socket at once (a dead peer will never answer a close handshake). */
  cut(): void {
    const raw = this.#core.socket.rawSocket;
    if (raw?.terminate !== undefined) raw.terminate();
    else raw?.close();
  }

  /** Closes for good; simpleddp will not reconnect on its own. */
  close(): void {
    this.#core.disconnect();
  }

  /** Whether a socket is open or opening. */
  get active(): boolean {
    return this.#open;
  }
}
