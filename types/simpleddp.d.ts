// The part of simpleddp@2.2.4 Cumulus uses; the package ships no types. It is CommonJS with
// `exports.default`, so ESM code must unwrap `default` (see test/helpers/simpleddp-client.ts).
declare module 'simpleddp' {
  interface SimpleDDPOptions {
    endpoint: string;
    SocketConstructor: unknown;
    reconnectInterval?: number;
    autoConnect?: boolean;
    autoReconnect?: boolean;
    maxTimeout?: number;
    clearDataOnReconnection?: boolean;
  }
  interface DDPSubscription {
    ready(): Promise<void>;
    stop(): Promise<void>;
    isReady(): boolean;
    isStopped(): boolean;
  }
  interface DDPCollection<T> {
    fetch(): T[];
    onChange(listener: (change: { changed: T | false; prev: T | false; predicatePassed?: boolean[] }) => void): { stop(): void; start(): void };
  }
  interface DDPEventListener {
    stop(): void;
    start(): void;
  }
  /** A DDP message as simpleddp-core parsed it (EJSON decoded). */
  export type DDPMessage = Record<string, unknown> & { msg?: string };
  /**
   * simpleddp-core's socket wrapper (`ddpConnection.socket`). Its events are synchronous,
   * unlike those of the DDP core, which defers each one by a timer tick.
   */
  export interface DDPCoreSocket {
    /** The live `ws` instance, or null between connections. */
    rawSocket: { close(): void; terminate?(): void } | null;
    /** EJSON-encodes and sends a message; throws when there is no socket. */
    send(message: Record<string, unknown>): void;
    close(): void;
    on(event: 'message:in', listener: (message: DDPMessage) => void): void;
    on(event: 'open' | 'close', listener: () => void): void;
    removeListener(event: string, listener: (...args: never[]) => void): void;
  }
  /** simpleddp-core's DDP connection (`simpleDDP#ddpConnection`). */
  export interface DDPCore {
    status: 'connected' | 'disconnected';
    socket: DDPCoreSocket;
    /** Messages waiting to be sent; the head stays put when sending it throws. */
    messageQueue: { queue: unknown[] };
    connect(): void;
    disconnect(): void;
    /** Queues a `method` message (sent at once while connected); answers its id. */
    method(name: string, params: unknown[], atBeginning?: boolean): string;
    sub(name: string, params: unknown[], id?: string): string;
    unsub(id: string): string;
  }
  class simpleDDP {
    constructor(options: SimpleDDPOptions, plugins?: unknown[]);
    connected: boolean;
    ddpConnection: DDPCore;
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    call(method: string, ...args: unknown[]): Promise<unknown>;
    apply(method: string, args?: unknown[], atBeginning?: boolean): Promise<unknown>;
    sub(name: string, args?: unknown[]): DDPSubscription;
    subscribe(name: string, ...args: unknown[]): Promise<DDPSubscription>;
    collection<T = Record<string, unknown>>(name: string): DDPCollection<T>;
    on(event: string, listener: (message: Record<string, unknown>, id?: string) => void): DDPEventListener;
  }
  export default simpleDDP;
}
