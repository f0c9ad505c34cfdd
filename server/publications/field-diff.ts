/** What a publication sends when a document changes: the fields that differ. */
import EJSON from 'ejson';

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
