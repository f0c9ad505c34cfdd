/** The options of `connect()`, their defaults, and how a server address becomes a DDP endpoint. */

export interface ConnectOptions {
  /** A token from the server's `CUMULUS_TOKENS`; sent as `login [{resume: token}]` on every (re)connect. */
  token?: string;
  /** The first reconnect delay; it doubles per failed attempt. Default 500 ms. */
  reconnectDelayMs?: number;
  /** The longest reconnect delay. Default 10 000 ms. */
  maxReconnectDelayMs?: number;
  /**
   * How long `connect()` keeps trying before it rejects (the server may still be starting).
   * Default 10 000 ms.
   */
  connectTimeoutMs?: number;
  /**
   * Silence after which the client pings the server; a second period of silence cuts the
   * socket and reconnects, so a half-open TCP connection cannot stall a worker forever.
   * Default 15 000 ms (Meteor's); 0 turns it off.
   */
  heartbeatMs?: number;
  /** Make this the connection `Job` uses for roots without one of their own. Default true. */
  setAsDefault?: boolean;
  /**
   * Receives problems that belong to no call, e.g. a login refused after a reconnect. Default:
   * a process warning; so is what it throws.
   */
  onError?: (error: Error) => void;
  /** A WebSocket class (default `ws`). */
  WebSocket?: unknown;
}

export const connectDefaults = {
  reconnectDelayMs: 500,
  maxReconnectDelayMs: 10_000,
  connectTimeoutMs: 10_000,
  heartbeatMs: 15_000,
  setAsDefault: true,
} as const;

/**
 * `ws://host:port/websocket` as is; `http(s)://host:port` (or a `ws` URL without a path) gets
 * the ws scheme and the `/websocket` path.
 */
export function endpointOf(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  else if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new TypeError(`connect: ${url} is not an http(s) or ws(s) URL`);
  }
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/websocket';
  return parsed.toString();
}

/** Reports through `process.emitWarning`, as the library never writes to the console itself. */
export function warn(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)), { type: 'CumulusWorkerWarning' });
}
