// The part of the npm `ddp@0.12.1` client (what meteor-job runs on) used by tests, examples
// and benchmarks; the package ships no types. Errors reach callbacks as plain objects.
declare module 'ddp' {
  type Callback = (error: unknown, result?: unknown) => void;
  interface DDPClientOptions {
    host?: string;
    port?: number;
    path?: string;
    url?: string;
    autoReconnect?: boolean;
    autoReconnectTimer?: number;
    maintainCollections?: boolean;
    ddpVersion?: string;
    useSockJs?: boolean;
  }
  class DDPClient {
    constructor(options?: DDPClientOptions);
    collections: Record<string, Record<string, Record<string, unknown>> | undefined>;
    session?: string;
    connect(callback?: (error: unknown, wasReconnect: boolean) => void): void;
    close(): void;
    call(name: string, params: unknown[], callback?: Callback, updatedCallback?: () => void): void;
    subscribe(name: string, params: unknown[], callback?: (error?: unknown) => void): string;
    unsubscribe(id: string): void;
    observe(collection: string): { added?: (id: string) => void; changed?: (id: string) => void; removed?: (id: string) => void; stop(): void };
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
  export default DDPClient;
}
