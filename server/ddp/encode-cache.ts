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

const encoded = new WeakMap<object, { key: string; bytes: Buffer }>();

/** How many `removed` encodings are kept: one live query's batch to all its subscribers. */
const removedKept = 4096;
const removedBytes = new Map<string, Buffer>();

/**
 * The bytes of an `added`, `changed` (with fields, no `cleared`) or `removed` message, from the
 * cache when it was encoded already; undefined for any other message.
 */
export function encodeShared(message: object): Buffer | undefined {
  const { msg, collection, id, fields } = message as { msg?: unknown; collection?: unknown; id?: unknown; fields?: unknown };
  const keys = Object.keys(message).length;
  if (msg === 'removed' && keys === 3) return encodeRemoved(message, `${String(collection)}\u0000${String(id)}`);
  if ((msg !== 'added' && msg !== 'changed') || typeof fields !== 'object' || fields === null || keys !== 4) return undefined;
  const key = `${msg}\u0000${String(collection)}\u0000${String(id)}`;
  const cached = encoded.get(fields);
  if (cached?.key === key) return cached.bytes;
  const bytes = Buffer.from(stringify(message));
  encoded.set(fields, { key, bytes });
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
