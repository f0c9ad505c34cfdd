/** What a publication sends when a document changes: the fields that differ. */
import EJSON from 'ejson';
import type { Subscription } from '../ddp/types.ts';

export type Fields = Record<string, unknown>;

/** The fields of `after` that differ from `before` (`undefined`: cleared); undefined when none do. */
export function fieldDiff(before: Fields, after: Fields): Fields | undefined {
  const diff: Fields = {};
  let any = false;
  for (const [key, value] of Object.entries(after)) {
    if (!Object.hasOwn(before, key) || !EJSON.equals(before[key] as never, value as never)) {
      diff[key] = value;
      any = true;
    }
  }
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) {
      diff[key] = undefined;
      any = true;
    }
  }
  return any ? diff : undefined;
}

/**
 * Brings a subscriber from the documents it was sent (`published`, updated in place) to
 * `current`: added, changed (the differing fields only) and removed messages.
 */
export function sendSnapshot(sub: Subscription, collection: string, published: Map<string, Fields>, current: ReadonlyMap<string, Fields>): void {
  for (const [id, fields] of current) {
    const before = published.get(id);
    if (before === undefined) sub.added(collection, id, fields);
    else {
      const diff = fieldDiff(before, fields);
      if (diff !== undefined) sub.changed(collection, id, diff);
    }
    published.set(id, fields);
  }
  for (const id of [...published.keys()]) {
    if (current.has(id)) continue;
    sub.removed(collection, id);
    published.delete(id);
  }
}
