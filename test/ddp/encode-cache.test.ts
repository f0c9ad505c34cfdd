// One encoding of a data message per fields object (server/ddp/encode-cache.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeShared } from '../../server/ddp/encode-cache.ts';

const text = (bytes: Buffer | undefined) => bytes?.toString('utf8');

describe('encodeShared', () => {
  it('encodes added and changed once per fields object, message and document', () => {
    const fields = { when: new Date(0), n: 1 };
    const first = encodeShared({ msg: 'changed', collection: 'c', id: '1', fields });
    assert.equal(text(first), '{"msg":"changed","collection":"c","id":"1","fields":{"when":{"$date":0},"n":1}}');
    assert.equal(encodeShared({ msg: 'changed', collection: 'c', id: '1', fields }), first, 'the same bytes, not a copy');
    assert.equal(text(encodeShared({ msg: 'added', collection: 'c', id: '1', fields })), '{"msg":"added","collection":"c","id":"1","fields":{"when":{"$date":0},"n":1}}');
    assert.equal(text(encodeShared({ msg: 'added', collection: 'c', id: '2', fields }))?.includes('"id":"2"'), true, 'another document is encoded anew');
  });

  it('encodes a removal once per document', () => {
    const first = encodeShared({ msg: 'removed', collection: 'c', id: '1' });
    assert.equal(text(first), '{"msg":"removed","collection":"c","id":"1"}');
    assert.equal(encodeShared({ msg: 'removed', collection: 'c', id: '1' }), first);
    assert.equal(text(encodeShared({ msg: 'removed', collection: 'd', id: '1' })), '{"msg":"removed","collection":"d","id":"1"}');
  });

  it('keeps the UTF-8 bytes of non-ASCII text intact', () => {
    assert.equal(text(encodeShared({ msg: 'added', collection: 'c', id: 'é', fields: { name: 'ünïcode ☁' } })), '{"msg":"added","collection":"c","id":"é","fields":{"name":"ünïcode ☁"}}');
  });

  it('leaves other messages to the plain encoder', () => {
    assert.equal(encodeShared({ msg: 'changed', collection: 'c', id: '1', fields: {}, cleared: ['x'] }), undefined);
    assert.equal(encodeShared({ msg: 'ready', subs: ['s'] }), undefined);
    assert.equal(encodeShared({ msg: 'added', collection: 'c', id: '1' }), undefined);
  });
});
