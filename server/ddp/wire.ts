/**
 * DDP on the wire: EJSON text in and out, and the shape checks Meteor's server makes before it
 * acts on a message (docs/PROTOCOL.md §1.3, §1.9).
 */
import { fromParsedJson, toEjsonText } from '../../shared/ejson-text.ts';
import { registerEjsonTypes } from '../../shared/ejson-types.ts';

/**
 * Registers the EJSON custom types Cumulus understands (`oid`). Idempotent. Without it a call
 * carrying an ObjectID, which `ddp` clients can send, would only earn a `Parse error`.
 */
export function setupEjson(): void {
  registerEjsonTypes();
}

setupEjson();

export type IncomingMessage = Record<string, unknown>;

/**
 * An encoded outgoing message: its EJSON text, or that text's UTF-8 bytes when one encoding is
 * written to many connections (the sockets then share the bytes instead of each copying them).
 */
export type WireText = string | Buffer;

export type ParsedFrame =
  | { kind: 'message'; message: IncomingMessage }
  | { kind: 'error'; reason: 'Bad request' | 'Parse error' };

// Meteor EJSON-decodes only these fields; everything else stays plain JSON.
const ejsonFields = ['params', 'fields', 'result'] as const;

/** Turns one frame into a message object, or says which `error` frame it deserves. */
export function parseFrame(text: string): ParsedFrame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'error', reason: 'Bad request' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { kind: 'error', reason: 'Bad request' };
  const message = json as IncomingMessage;
  try {
    for (const field of ejsonFields) {
      if (!Object.hasOwn(message, field)) continue;
      // The fast path converts in place; `ejson`'s, if needed, starts again from the text.
      message[field] = fromParsedJson(message[field], () => (JSON.parse(text) as IncomingMessage)[field]);
    }
  } catch {
    return { kind: 'error', reason: 'Parse error' };
  }
  return { kind: 'message', message };
}

/** EJSON text of an outgoing message. Throws when a value cannot be encoded (a BigInt, a cycle). */
export function stringify(message: object): string {
  return toEjsonText(message);
}

export interface ConnectMessage {
  msg: 'connect';
  version: string;
  support: string[];
}

export interface MethodMessage {
  msg: 'method';
  id: string;
  method: string;
  params: unknown[];
  randomSeed?: string;
}

export interface SubMessage {
  msg: 'sub';
  id: string;
  name: string;
  params: unknown[];
}

/** A connect message the server can negotiate with; anything else gets `failed`. */
export function asConnect(message: IncomingMessage): ConnectMessage | undefined {
  const { version, support } = message;
  if (typeof version !== 'string') return undefined;
  if (!Array.isArray(support) || !support.every((v) => typeof v === 'string')) return undefined;
  if (!support.includes(version)) return undefined;
  return { msg: 'connect', version, support: support as string[] };
}

/** A well-formed `method` message, `params` defaulted; undefined means `Malformed method invocation`. */
export function asMethod(message: IncomingMessage): MethodMessage | undefined {
  const { id, method, params, randomSeed } = message;
  if (typeof id !== 'string' || typeof method !== 'string') return undefined;
  if (Object.hasOwn(message, 'params') && !Array.isArray(params)) return undefined;
  if (Object.hasOwn(message, 'randomSeed') && typeof randomSeed !== 'string') return undefined;
  const call: MethodMessage = { msg: 'method', id, method, params: (params as unknown[] | undefined) ?? [] };
  if (typeof randomSeed === 'string') call.randomSeed = randomSeed;
  return call;
}

/** A well-formed `sub` message, `params` defaulted; undefined means `Malformed subscription`. */
export function asSub(message: IncomingMessage): SubMessage | undefined {
  const { id, name, params } = message;
  if (typeof id !== 'string' || typeof name !== 'string') return undefined;
  if (Object.hasOwn(message, 'params') && !Array.isArray(params)) return undefined;
  return { msg: 'sub', id, name, params: (params as unknown[] | undefined) ?? [] };
}

export type ErrorReason =
  | 'Bad request'
  | 'Parse error'
  | 'Must connect first'
  | 'Already connected'
  | 'Malformed method invocation'
  | 'Malformed subscription';

/** A connection-level `error` frame; the connection stays open. */
export function errorFrame(reason: ErrorReason, offendingMessage?: IncomingMessage): object {
  return offendingMessage === undefined ? { msg: 'error', reason } : { msg: 'error', reason, offendingMessage };
}
