/**
 * The MongoDB side of `list` and `count`: a `JobQuery` as a filter, the list orders as sorts,
 * and the keyset condition of a page. A text query matches `_words` (each query word as a
 * prefix, anchored, so the `words` index serves it) and lists newest saved first.
 */
import type { Document } from 'mongodb';
import { assertCursorKeys, type JobQuery, type ListCursor, type ListOrder } from '../job-store.ts';
import { queryWords } from '../search-words.ts';
import { jobSelector } from './mongo-transaction.ts';

export const listSort: Record<ListOrder, Document> = {
  'updated-desc': { updated: -1, _id: -1 },
  'created-desc': { created: -1, _id: -1 },
  priority: { priority: 1, created: -1, _id: -1 },
  'created-asc': { created: 1, _seq: 1 },
};

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function querySelector(query: JobQuery): Document {
  const selector = jobSelector(query);
  for (const field of ['created', 'updated'] as const) {
    const range = query[field];
    if (range === undefined) continue;
    const condition: Document = {};
    if (range.from !== undefined) condition.$gte = range.from;
    if (range.to !== undefined) condition.$lt = range.to;
    if (Object.keys(condition).length > 0) selector[field] = condition;
  }
  const words = query.text === undefined ? [] : queryWords(query.text);
  if (words.length > 0) selector._words = { $all: words.map((word) => new RegExp(`^${escapeRegExp(word)}`)) };
  return selector;
}

/** The jobs after `cursor` in `order`; a TypeError names a sort key the cursor lacks. */
export function afterCursor(order: ListOrder, cursor: ListCursor): Document {
  assertCursorKeys(order, cursor);
  const { id, updated, created, priority } = cursor;
  switch (order) {
    case 'updated-desc':
      return { $or: [{ updated: { $lt: updated } }, { updated, _id: { $lt: id } }] };
    case 'created-desc':
      return { $or: [{ created: { $lt: created } }, { created, _id: { $lt: id } }] };
    default:
      return { $or: [{ priority: { $gt: priority } }, { priority, created: { $lt: created } }, { priority, created, _id: { $lt: id } }] };
  }
}
