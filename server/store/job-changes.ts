/**
 * How changes apply to a stored job, the same for every backend: keys removed by `undefined`,
 * and keys kept in the canonical document order so documents read the same however they were
 * made.
 */
import { jobDocKeys } from '../../shared/job-doc.ts';
import type { JobChanges, StoredJob } from './job-store.ts';

/**
 * The document with `changes` applied: a key set to `undefined` is removed, `_id` never
 * changes. Existing keys keep their place; a key the document did not have goes where a
 * freshly built document would have it (the order of `jobDocKeys`), so documents read the
 * same whichever way they were made.
 */
export function mergeChanges(doc: StoredJob, changes: JobChanges): StoredJob {
  const merged: Record<string, unknown> = { ...doc };
  const added: string[] = [];
  for (const [key, value] of Object.entries(changes)) {
    if (key === '_id') continue;
    if (value === undefined) {
      delete merged[key];
    } else {
      if (!Object.hasOwn(merged, key)) added.push(key);
      merged[key] = value;
    }
  }
  return (added.length === 0 ? merged : withKeysInPlace(merged, added)) as unknown as StoredJob;
}

const keyRank = new Map<string, number>(jobDocKeys.map((key, index) => [key, index]));

/** `object` rebuilt with each of `addedKeys` moved before the first key that follows it canonically. */
export function withKeysInPlace<T extends object>(object: T, addedKeys: readonly string[]): T {
  const added = new Set(addedKeys);
  const order = Object.keys(object).filter((key) => !added.has(key));
  for (const key of addedKeys) {
    const rank = keyRank.get(key) ?? Infinity;
    const before = order.findIndex((other) => (keyRank.get(other) ?? Infinity) > rank);
    if (before === -1) order.push(key);
    else order.splice(before, 0, key);
  }
  const source = object as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const key of order) result[key] = source[key];
  return result as T;
}
