/**
 * One encoding of a data message for every connection it goes to. A live query hands the same
 * fields object to each of its subscribers, and a shared collection's merge box passes it on
 * unchanged (see `DdpServer.shareDocuments`); so the UTF-8 bytes of `{msg, collection, id,
 * fields}` are made once and written to every socket, instead of encoded and copied per
 * connection. Published fields are never changed after they are handed over, which is what makes
 * the object a valid key. A `removed` has no fields object; its bytes are kept for the last few
 * documents removed, which is the order in which a live query sends them to its subscribers.
 */
import { stringify } from './wire.ts';

const encoded = new WeakMap<object, { msg: string; collection: unknown; id: unknown; bytes: Buffer }>();

/** How many `removed` encodings are kept: one live query's batch to all its subscribers. */
const removedKept = 4096;
const removedBytes = new Map<string, Buffer>();

interface MaybeData {
  msg?: unknown;
  collection?: unknown;
  id?: unknown;
  fields?: unknown;
  cleared?: unknown;
}

/**
 * The bytes of an `added`, `changed` (with fields, no `cleared`) or `removed` message, from the
 * cache when it was encoded already; undefined for any other message. Called for every message
 * to every connection, so it looks at properties rather than listing them.
 */
export function encodeShared(message: object): Buffer | undefined {
  const { msg, collection, id, fields, cleared } = message as MaybeData;
  if (cleared !== undefined) return undefined;
  if (msg === 'removed') return fields === undefined ? encodeRemoved(message, `${String(collection)}\u0000${String(id)}`) : undefined;
  if ((msg !== 'added' && msg !== 'changed') || typeof fields !== 'object' || fields === null) return undefined;
  const cached = encoded.get(fields);
  if (cached !== undefined && cached.msg === msg && cached.collection === collection && cached.id === id) return cached.bytes;
  const bytes = Buffer.from(stringify(message));
  encoded.set(fields, { msg, collection, id, bytes });
  return bytes;
}

function encodeRemoved(message: object, key: string): Buffer {
  const cached = removedBytes.get(key);
  if (cached !== undefined) return cached;
  if (removedBytes.size >= removedKept) removedBytes.delete(removedBytes.keys().next().value as string);
  const bytes = Buffer.from(stringify(message));
  removedBytes.set(key, bytes);
  return bytes;
}
