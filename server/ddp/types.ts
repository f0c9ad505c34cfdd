/**
 * The shapes the rest of Cumulus sees of the DDP layer: a connection, a method invocation and a
 * subscription. Methods and publications are only ever registered handlers of these.
 */
import type { Logger } from '../logger.ts';
import type { ObjectId } from '../../shared/object-id.ts';

export interface DdpServerOptions {
  /** Silence after which the server pings a client; 0 disables server heartbeats. Default 15000. */
  heartbeatIntervalMs?: number;
  /** How long a server ping may stay unanswered before the connection is closed. Default 15000. */
  heartbeatTimeoutMs?: number;
  /**
   * Decides whether a websocket upgrade may proceed: undefined lets it, a status line such as
   * `403 Forbidden` refuses it (the place for origin checks). Default: every upgrade proceeds.
   */
  checkUpgrade?: (request: import('node:http').IncomingMessage) => string | undefined;
  /** A socket that has not sent `connect` within this long is closed. Default 30000. */
  handshakeTimeoutMs?: number;
  /** Told of every method call once it is answered (for metrics): its time, and whether it threw. */
  onMethodDone?: (name: string, seconds: number, outcome: 'ok' | 'error') => void;
  /**
   * Largest incoming frame in bytes, default 16 MiB. A larger frame closes that connection with
   * code 1009; other connections are unaffected.
   */
  maxMessageBytes?: number;
  /**
   * Bytes waiting in a connection's socket past which its changes are held and coalesced
   * (latest state per document) instead of queued. Default 4 MiB.
   */
  maxBufferedBytes?: number;
  /** How long a socket may stay over `maxBufferedBytes` before its connection is closed. Default 30000. */
  slowClientTimeoutMs?: number;
  logger?: Logger;
}

/** One DDP connection (a Meteor session). */
export interface ConnectionInfo {
  /** The session id sent in `connected`. */
  readonly id: string;
  readonly clientAddress: string | undefined;
  /** Who is logged in on this connection; changed only through `MethodInvocation.setUserId`. */
  readonly userId: string | null;
  /** Runs `cb` once the connection has closed (at once if it already has). */
  onClose(cb: () => void): void;
}

/** The `this` of a Meteor method, passed explicitly. */
export interface MethodInvocation {
  readonly connection: ConnectionInfo;
  readonly userId: string | null;
  /**
   * Logs the connection in as `userId` (or out with null) and re-runs its subscriptions, as
   * Meteor does. Not allowed after `unblock()`, because later messages may already be running.
   */
  setUserId(userId: string | null): void;
  /** Lets the next message of this connection start before this method finishes. Idempotent. */
  unblock(): void;
}

export type MethodHandler = (invocation: MethodInvocation, params: unknown[]) => unknown | Promise<unknown>;

/** A document id a publication may use: Cumulus ids are strings; Mongo data may hold ObjectIDs. */
export type PublishedId = string | ObjectId;

/** The `this` of a Meteor publication, passed explicitly. */
export interface Subscription {
  readonly connection: ConnectionInfo;
  /** The user the connection had when this run of the publication started. */
  readonly userId: string | null;
  /** The client's subscription id. */
  readonly id: string;
  added(collection: string, id: PublishedId, fields: Record<string, unknown>): void;
  /** A field whose value is `undefined` is cleared. */
  changed(collection: string, id: PublishedId, fields: Record<string, unknown>): void;
  removed(collection: string, id: PublishedId): void;
  /** Tells the client the initial batch is complete. A publication must call it; only the first call counts. */
  ready(): void;
  /** Stops the subscription with an error (`nosub` carrying it); its documents are removed. */
  error(err: unknown): void;
  /** Stops the subscription (`nosub`); its documents are removed. */
  stop(): void;
  /** Runs `cb` when the subscription stops for any reason, the connection closing included. */
  onStop(cb: () => void): void;
  /** Registers a flush the session awaits after each method of this connection and before sending `updated` (the write fence). */
  onFence(cb: () => void | Promise<void>): void;
}

export type PublishHandler = (sub: Subscription, params: unknown[]) => void | Promise<void>;
