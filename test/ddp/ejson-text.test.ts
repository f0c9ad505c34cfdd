/**
 * The fast EJSON text codec gives exactly what the `ejson` module gives, for the values it
 * handles itself and for those it hands to `ejson` (escapes, types, binary, NaN, custom types).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import EJSON from 'ejson';
import { fromEjsonText, fromParsedJson, toEjsonText } from '../../shared/ejson-text.ts';
import { registerEjsonTypes } from '../../shared/ejson-types.ts';
import { ObjectId } from '../../shared/object-id.ts';

registerEjsonTypes();

const when = new Date(1_700_000_000_123);
const samples: Record<string, unknown> = {
  'a job document': {
    _id: 'abc',
    status: 'ready',
    created: when,
    data: { n: 1, list: [1, 'two', { at: when }, [when]], nested: { deeper: { at: when } }, empty: {}, none: null },
    depends: [],
    progress: { completed: 0, total: 1, percent: 0 },
  },
  'no Date at all': { a: [1, 2, { b: 'c' }], d: true, e: null, f: 'ünïcödé ☁️' },
  'a bare Date': when,
  'an array of Dates': [when, new Date(0)],
  'an invalid Date': { at: new Date(Number.NaN) },
  'undefined members': { a: undefined, b: [undefined, 1] },
  'a $-key to escape': { data: { $date: 'not a date' } },
  'an $escape look-alike': { $escape: { x: 1 } },
  'a key that merely contains $': { 'a$b': 1, price$: 2 },
  'NaN and infinities': { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: [Number.NEGATIVE_INFINITY] },
  'binary': { bytes: new Uint8Array([1, 2, 255]) },
  'a registered custom type': { ref: new ObjectId('0123456789abcdef01234567') },
  'a null-prototype object': Object.assign(Object.create(null) as object, { a: when }),
  'strings, numbers, null': ['x', 1.5, -0, null, 0],
};

describe('EJSON text', () => {
  for (const [name, value] of Object.entries(samples)) {
    it(`encodes and decodes ${name} exactly as ejson does`, () => {
      const text = toEjsonText(value);
      assert.equal(text, EJSON.stringify(value));
      const decoded = fromEjsonText(text);
      const expected = EJSON.parse(text);
      assert.equal(EJSON.stringify(decoded), EJSON.stringify(expected));
      assert.ok(EJSON.equals(decoded, expected));
      assert.deepEqual(fromParsedJson(JSON.parse(text), () => JSON.parse(text)), expected);
    });
  }

  it('gives Dates back as Dates wherever they were', () => {
    const decoded = fromEjsonText(toEjsonText(samples['a job document'])) as { created: unknown; data: { list: unknown[]; nested: { deeper: { at: unknown } } } };
    assert.ok(decoded.created instanceof Date);
    assert.equal((decoded.created as Date).getTime(), when.getTime());
    assert.ok((decoded.data.list[2] as { at: unknown }).at instanceof Date);
    assert.ok((decoded.data.list[3] as unknown[])[0] instanceof Date);
    assert.ok(decoded.data.nested.deeper.at instanceof Date);
  });

  it('leaves the value it encodes untouched', () => {
    const value = { at: when, list: [when] };
    toEjsonText(value);
    assert.equal(value.at, when);
    assert.equal(value.list[0], when);
  });

  it('throws what JSON throws for text that is not JSON, and for a BigInt', () => {
    assert.throws(() => fromEjsonText('{"a":'), SyntaxError);
    assert.throws(() => toEjsonText({ big: 1n }), TypeError);
  });
});
