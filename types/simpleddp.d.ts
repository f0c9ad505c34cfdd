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
  class simpleDDP {
    constructor(options: SimpleDDPOptions, plugins?: unknown[]);
    connected: boolean;
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
