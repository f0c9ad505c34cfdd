// One encoding of a data message per fields object (server/ddp/encode-cache.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeShared } from '../../server/ddp/encode-cache.ts';

describe('encodeShared', () => {
  it('encodes added and changed once per fields object, message and document', () => {
    const fields = { when: new Date(0), n: 1 };
    const first = encodeShared({ msg: 'changed', collection: 'c', id: '1', fields });
    assert.equal(first, '{"msg":"changed","collection":"c","id":"1","fields":{"when":{"$date":0},"n":1}}');
    assert.equal(encodeShared({ msg: 'changed', collection: 'c', id: '1', fields }), first);
    assert.equal(encodeShared({ msg: 'added', collection: 'c', id: '1', fields }), '{"msg":"added","collection":"c","id":"1","fields":{"when":{"$date":0},"n":1}}');
    assert.equal(encodeShared({ msg: 'added', collection: 'c', id: '2', fields })?.includes('"id":"2"'), true, 'another document is encoded anew');
  });

  it('leaves other messages to the plain encoder', () => {
    assert.equal(encodeShared({ msg: 'removed', collection: 'c', id: '1' }), undefined);
    assert.equal(encodeShared({ msg: 'changed', collection: 'c', id: '1', fields: {}, cleared: ['x'] }), undefined);
    assert.equal(encodeShared({ msg: 'ready', subs: ['s'] }), undefined);
  });
});
