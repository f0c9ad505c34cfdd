/**
 * Meteor's `MongoID.idStringify` / `idParse`: how a document id travels in data messages.
 * The escapes keep every id kind distinct once it is text (docs/PROTOCOL.md §1.9).
 */
import { ObjectId } from '../../shared/object-id.ts';

/** The text form of a document id in `added`/`changed`/`removed`. */
export function idStringify(id: unknown): string {
  if (id instanceof ObjectId) return id.toHexString();
  if (typeof id === 'string') {
    if (id === '') return id;
    // Escaped so that idParse cannot mistake them for an ObjectID or a JSON-encoded id.
    if (id.startsWith('-') || id.startsWith('~') || id.startsWith('{') || ObjectId.looksLike(id)) return `-${id}`;
    return id;
  }
  if (id === undefined) return '-';
  if (id === null || typeof id === 'number' || typeof id === 'boolean') return `~${JSON.stringify(id)}`;
  throw new TypeError('Document ids must be strings, ObjectIDs, numbers, booleans, null or undefined');
}

/** The inverse of `idStringify`. */
export function idParse(text: string): unknown {
  if (text === '') return text;
  if (text === '-') return undefined;
  if (text.startsWith('-')) return text.slice(1);
  if (text.startsWith('~')) return JSON.parse(text.slice(1)) as unknown;
  if (ObjectId.looksLike(text)) return new ObjectId(text);
  return text;
}
