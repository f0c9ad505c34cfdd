/**
 * One encoding of a data message for every connection it goes to. A live query hands the same
 * fields object to each of its subscribers, and a shared collection's merge box passes it on
 * unchanged (see `DdpServer.shareDocuments`); so the EJSON text of `{msg, collection, id,
 * fields}` is made once and reused, instead of once per connection. Published fields are never
 * changed after they are handed over, which is what makes the object a valid key.
 */
import { stringify } from './wire.ts';

const encoded = new WeakMap<object, { key: string; text: string }>();

/** The text of an `added` or `changed` message, from the cache when its fields were encoded already. */
export function encodeShared(message: object): string | undefined {
  const { msg, collection, id, fields } = message as { msg?: unknown; collection?: unknown; id?: unknown; fields?: unknown };
  if ((msg !== 'added' && msg !== 'changed') || typeof fields !== 'object' || fields === null || Object.keys(message).length !== 4) return undefined;
  const key = `${msg}\u0000${String(collection)}\u0000${String(id)}`;
  const cached = encoded.get(fields);
  if (cached?.key === key) return cached.text;
  const text = stringify(message);
  encoded.set(fields, { key, text });
  return text;
}
