/**
 * Whether a value can travel as EJSON and come back the same. `EJSON.stringify` itself drops
 * functions and `undefined` object values silently and turns a Map into `{}`, so a job's data
 * or a handler's result could arrive changed without anyone being told; this says where instead.
 */
import { ObjectId } from '../shared/object-id.ts';

/** Throws a TypeError naming the first part of `value` (under `path`) that EJSON cannot carry. */
export function checkSerializable(value: unknown, path: string): void {
  walk(value, path, new Set());
}

function walk(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return;
    case 'undefined':
      // Dropped from objects and null in arrays: harmless, as JSON does.
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`${path} is a ${typeof value}, which cannot be sent to the server`);
  }
  if (value === null || value instanceof Date || value instanceof Uint8Array || value instanceof ObjectId) return;
  if (ancestors.has(value)) throw new TypeError(`${path} refers back to itself, which cannot be sent to the server`);
  ancestors.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}[${index}]`, ancestors));
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new TypeError(`${path} is a ${kind}, which cannot be sent to the server (use plain objects, arrays, strings, numbers, booleans, null and Dates)`);
    }
    for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`, ancestors);
  }
  ancestors.delete(value);
}
