/**
 * EJSON text at the cost of plain JSON for the values Cumulus handles almost always: plain
 * objects, arrays, strings, finite numbers, booleans, null and Dates. `ejson` walks and clones
 * every value on the way in and out (three to four times the time of `JSON.stringify` /
 * `JSON.parse` on a job document); here only the objects that hold a Date are copied on the way
 * out, and a parsed value is converted in place on the way in. Anything else — a key starting
 * with `$` (EJSON's escapes and types), NaN or ±Infinity, binary, a registered custom type or
 * any other class instance — goes through `ejson` itself, so the text and the values are
 * exactly `ejson`'s.
 */
import EJSON from 'ejson';

/** Thrown inside the fast paths when a value needs `ejson`'s own handling. */
class NeedsEjson extends Error {}
const needsEjson = new NeedsEjson('this value needs the ejson module');

/** `EJSON.stringify(value)`. */
export function toEjsonText(value: unknown): string {
  let json: unknown;
  try {
    json = toJsonValue(value);
  } catch (error) {
    if (error === needsEjson) return EJSON.stringify(value);
    throw error;
  }
  return JSON.stringify(json);
}

/** `EJSON.parse(text)`. Throws a SyntaxError for text that is not JSON. */
export function fromEjsonText(text: string): unknown {
  const json: unknown = JSON.parse(text);
  try {
    return fromJsonValueInPlace(json);
  } catch (error) {
    if (error === needsEjson) return EJSON.parse(text);
    throw error;
  }
}

/**
 * `EJSON.fromJSONValue(json)` for a value just parsed from JSON, which this may convert in
 * place; when it needs `ejson` itself, `pristine` gives the value again, unconverted.
 */
export function fromParsedJson(json: unknown, pristine: () => unknown): unknown {
  try {
    return fromJsonValueInPlace(json);
  } catch (error) {
    if (error === needsEjson) return (EJSON.fromJSONValue as (value: unknown) => unknown)(pristine());
    throw error;
  }
}

/** The JSON value of `value`: `value` itself unless a Date lies inside, copied only along the way to it. */
function toJsonValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw needsEjson;
    return value;
  }
  if (value instanceof Date) return { $date: value.getTime() };
  if (Array.isArray(value)) {
    let out: unknown[] = value;
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      const converted = toJsonValue(item);
      if (converted !== item) {
        if (out === value) out = value.slice();
        out[i] = converted;
      }
    }
    return out;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw needsEjson;
  const object = value as Record<string, unknown>;
  let out = object;
  for (const key in object) {
    // '$' (36): EJSON escapes such keys, or they are its own types.
    if (key.charCodeAt(0) === 36) throw needsEjson;
    const item = object[key];
    const converted = toJsonValue(item);
    if (converted !== item) {
      if (out === object) out = { ...object };
      out[key] = converted;
    }
  }
  return out;
}

/** Turns every `{$date: n}` of a parsed JSON value into a Date, in place. */
function fromJsonValueInPlace(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) {
    for (let i = 0; i < json.length; i += 1) {
      const item: unknown = json[i];
      if (item !== null && typeof item === 'object') json[i] = fromJsonValueInPlace(item);
    }
    return json;
  }
  const object = json as Record<string, unknown>;
  for (const key in object) {
    if (key.charCodeAt(0) === 36) {
      if (key === '$date' && typeof object.$date === 'number' && Object.keys(object).length === 1) return new Date(object.$date);
      throw needsEjson;
    }
    const item = object[key];
    if (item !== null && typeof item === 'object') object[key] = fromJsonValueInPlace(item);
  }
  return object;
}
