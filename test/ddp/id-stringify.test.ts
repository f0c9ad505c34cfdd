import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { idParse, idStringify } from '../../server/ddp/index.ts';
import { ObjectId } from '../../shared/object-id.ts';

describe('idStringify / idParse (docs/PROTOCOL.md §1.9)', () => {
  const hex = '0123456789abcdef01234567';
  const cases: Array<[string, unknown, string]> = [
    ['an ObjectID becomes its hex', new ObjectId(hex), hex],
    ['the empty string stays empty', '', ''],
    ['a 24-hex string is escaped with -', hex, `-${hex}`],
    ['a string starting with - is escaped', '-abc', '--abc'],
    ['a string starting with ~ is escaped', '~abc', '-~abc'],
    ['a string starting with { is escaped', '{"a":1}', '-{"a":1}'],
    ['a Meteor id is unchanged', 'aB3xYz9QwErTyUiOp', 'aB3xYz9QwErTyUiOp'],
    ['upper-case hex is not an ObjectID', hex.toUpperCase(), hex.toUpperCase()],
    ['23 hex characters are not an ObjectID', hex.slice(1), hex.slice(1)],
    ['undefined becomes -', undefined, '-'],
    ['a number becomes ~JSON', 1, '~1'],
    ['a negative float becomes ~JSON', -1.5, '~-1.5'],
    ['true becomes ~true', true, '~true'],
    ['null becomes ~null', null, '~null'],
  ];
  for (const [why, id, text] of cases) {
    it(`${why}, and parses back`, () => {
      assert.equal(idStringify(id), text);
      const parsed = idParse(text);
      if (id instanceof ObjectId) assert.ok(id.equals(parsed));
      else assert.deepEqual(parsed, id);
    });
  }

  it('refuses other objects', () => {
    assert.throws(() => idStringify({ a: 1 }), TypeError);
    assert.throws(() => idStringify([1]), TypeError);
  });
});
