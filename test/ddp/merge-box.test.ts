import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MergeBox, type DataMessage } from '../../server/ddp/merge-box.ts';
import type { Subscription } from '../../server/ddp/index.ts';
import { RawDdpClient, startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';

function box(): { mergeBox: MergeBox; sent: DataMessage[] } {
  const sent: DataMessage[] = [];
  return { mergeBox: new MergeBox((m) => sent.push(m)), sent };
}

describe('MergeBox (docs/PROTOCOL.md §1.8)', () => {
  const a = { name: 'A' };
  const b = { name: 'B' };

  it('the first publisher causes added; later ones reveal only fields the client lacks', () => {
    const { mergeBox, sent } = box();
    mergeBox.added(a, 'c', '1', { x: 1, y: 2 });
    mergeBox.added(b, 'c', '1', { y: 3, z: 4 });
    assert.deepEqual(sent, [
      { msg: 'added', collection: 'c', id: '1', fields: { x: 1, y: 2 } },
      { msg: 'changed', collection: 'c', id: '1', fields: { z: 4 } },
    ]);
  });

  it('only the leading holder of a field changes what the client sees', () => {
    const { mergeBox, sent } = box();
    mergeBox.added(a, 'c', '1', { y: 2 });
    mergeBox.added(b, 'c', '1', { y: 3 });
    mergeBox.changed(b, 'c', '1', { y: 30 });
    mergeBox.changed(a, 'c', '1', { y: 20 });
    assert.deepEqual(sent.slice(1), [{ msg: 'changed', collection: 'c', id: '1', fields: { y: 20 } }]);
  });

  it('a dropped field falls back to the next holder, else goes to cleared', () => {
    const { mergeBox, sent } = box();
    mergeBox.added(a, 'c', '1', { y: 2, only: 'a' });
    mergeBox.added(b, 'c', '1', { y: 3 });
    mergeBox.changed(a, 'c', '1', { y: undefined, only: undefined });
    assert.deepEqual(sent.at(-1), { msg: 'changed', collection: 'c', id: '1', fields: { y: 3 }, cleared: ['only'] });
  });

  it('removes a document only when its last holder goes; before that the others take over', () => {
    const { mergeBox, sent } = box();
    mergeBox.added(a, 'c', '1', { x: 1, y: 2 });
    mergeBox.added(b, 'c', '1', { y: 3 });
    mergeBox.removed(a, 'c', '1');
    assert.deepEqual(sent.at(-1), { msg: 'changed', collection: 'c', id: '1', fields: { y: 3 }, cleared: ['x'] });
    mergeBox.removed(b, 'c', '1');
    assert.deepEqual(sent.at(-1), { msg: 'removed', collection: 'c', id: '1' });
    assert.equal(sent.length, 3);
  });

  it('never sends an empty changed: equal values by EJSON equality, unknown fields, non-leading holders', () => {
    const { mergeBox, sent } = box();
    mergeBox.added(a, 'c', '1', { when: new Date(5), bytes: new Uint8Array([1, 2]), nested: { k: [1] } });
    mergeBox.added(b, 'c', '1', { when: new Date(6) });
    mergeBox.changed(a, 'c', '1', { when: new Date(5), bytes: new Uint8Array([1, 2]), nested: { k: [1] } });
    mergeBox.changed(a, 'c', '1', { missing: undefined });
    mergeBox.changed(b, 'c', '1', { when: new Date(7) });
    mergeBox.added(b, 'c', '1', { when: new Date(8) });
    assert.equal(sent.length, 1);
  });

  it('a falling-back value equal to the dropped one sends nothing', () => {
    const { mergeBox, sent } = box();
    mergeBox.added(a, 'c', '1', { y: { deep: true } });
    mergeBox.added(b, 'c', '1', { y: { deep: true } });
    mergeBox.removed(a, 'c', '1');
    assert.equal(sent.length, 1);
  });

  it('ignores _id fields and removals or changes from subscriptions that do not hold the document', () => {
    const { mergeBox, sent } = box();
    mergeBox.added(a, 'c', '1', { _id: 'x', v: 1 });
    mergeBox.changed(b, 'c', '1', { v: 2 });
    mergeBox.removed(b, 'c', '1');
    mergeBox.removed(a, 'c', 'unknown');
    mergeBox.removed(a, 'other', '1');
    assert.deepEqual(sent, [{ msg: 'added', collection: 'c', id: '1', fields: { v: 1 } }]);
  });

  it('keeps its own copies of published values', () => {
    const { mergeBox, sent } = box();
    const tags = ['a'];
    mergeBox.added(a, 'c', '1', { tags });
    tags.push('b');
    mergeBox.changed(a, 'c', '1', { tags });
    assert.deepEqual(sent.at(-1), { msg: 'changed', collection: 'c', id: '1', fields: { tags: ['a', 'b'] } });
  });

  it('a rebuild sends only the difference from what the client had', () => {
    const { mergeBox, sent } = box();
    mergeBox.added(a, 'c', 'kept', { same: 1, changes: 1, goes: 1 });
    mergeBox.added(a, 'c', 'dropped', { v: 1 });
    mergeBox.added(a, 'other', 'x', { v: 1 });
    const finish = mergeBox.beginRebuild();
    const a2 = { name: 'A again' };
    mergeBox.added(a2, 'c', 'kept', { same: 1, changes: 2, comes: 1 });
    mergeBox.added(a2, 'c', 'new', { v: 1 });
    mergeBox.added(a2, 'other', 'x', { v: 1 });
    assert.equal(sent.length, 3, 'nothing is sent during the rebuild');
    finish();
    assert.deepEqual(sent.slice(3), [
      { msg: 'changed', collection: 'c', id: 'kept', fields: { changes: 2, comes: 1 }, cleared: ['goes'] },
      { msg: 'added', collection: 'c', id: 'new', fields: { v: 1 } },
      { msg: 'removed', collection: 'c', id: 'dropped' },
    ]);
  });
});

describe('merge box over the wire: two subscriptions on one document', () => {
  let server: TestDdpServer;
  let client: RawDdpClient;
  const subs = new Map<string, Subscription>();

  before(async () => {
    server = await startDdpServer();
    server.ddp.publish('first', (sub) => {
      subs.set('first', sub);
      sub.added('jobs', 'j1', { status: 'ready', type: 't', a: 1 });
      sub.ready();
    });
    server.ddp.publish('second', (sub) => {
      subs.set('second', sub);
      sub.added('jobs', 'j1', { status: 'running', b: 2 });
      sub.ready();
    });
    server.ddp.method('echo', () => 'ok');
    client = await RawDdpClient.connect(server.url);
  });
  after(async () => {
    await client.close();
    await server.stop();
  });

  const dataSince = (from: number) => client.received.slice(from).filter((m) => ['added', 'changed', 'removed'].includes(String(m.msg)));

  it('merges, prefers the first publisher, falls back, and removes only at the end', async () => {
    await client.subscribe('first', [], 's1');
    await client.subscribe('second', [], 's2');
    subs.get('second')?.changed('jobs', 'j1', { status: 'failed', b: 3 });
    subs.get('first')?.changed('jobs', 'j1', { a: undefined });
    let mark = client.received.length;
    await client.call('echo');
    assert.deepEqual(dataSince(1), [
      { msg: 'added', collection: 'jobs', id: 'j1', fields: { status: 'ready', type: 't', a: 1 } },
      { msg: 'changed', collection: 'jobs', id: 'j1', fields: { b: 2 } },
      { msg: 'changed', collection: 'jobs', id: 'j1', fields: { b: 3 } },
      { msg: 'changed', collection: 'jobs', id: 'j1', cleared: ['a'] },
    ]);
    mark = client.received.length;
    client.send({ msg: 'unsub', id: 's1' });
    await client.nextMessage((m) => m.msg === 'nosub' && m.id === 's1');
    assert.deepEqual(dataSince(mark), [{ msg: 'changed', collection: 'jobs', id: 'j1', fields: { status: 'failed' }, cleared: ['type'] }]);
    mark = client.received.length;
    client.send({ msg: 'unsub', id: 's2' });
    await client.nextMessage((m) => m.msg === 'nosub' && m.id === 's2');
    assert.deepEqual(dataSince(mark), [{ msg: 'removed', collection: 'jobs', id: 'j1' }]);
  });
});

describe('MergeBox, shared collections (DdpServer.shareDocuments)', () => {
  const a = { name: 'A' };
  const b = { name: 'B' };
  const shared = () => {
    const sent: DataMessage[] = [];
    return { mergeBox: new MergeBox((m) => sent.push(m), (collection) => collection === 's'), sent };
  };

  it('counts holders: added once, changes passed on as they are (the same object), removed with the last holder', () => {
    const { mergeBox, sent } = shared();
    const fields = { x: 1 };
    mergeBox.added(a, 's', '1', fields);
    mergeBox.added(b, 's', '1', { x: 1 });
    const change = { x: 2 };
    mergeBox.changed(b, 's', '1', change);
    mergeBox.changed(a, 's', '1', { gone: undefined });
    mergeBox.removed(a, 's', '1');
    mergeBox.changed(a, 's', '1', { x: 3 });
    mergeBox.removed(b, 's', '1');
    mergeBox.removed(b, 's', '1');
    assert.deepEqual(sent, [
      { msg: 'added', collection: 's', id: '1', fields: { x: 1 } },
      { msg: 'changed', collection: 's', id: '1', fields: { x: 2 } },
      { msg: 'changed', collection: 's', id: '1', cleared: ['gone'] },
      { msg: 'removed', collection: 's', id: '1' },
    ]);
    assert.equal((sent[0] as { fields?: object }).fields, fields, 'no copy');
    assert.equal((sent[1] as { fields?: object }).fields, change, 'no copy');
  });

  it('a rebuild sends what changed: added for new documents, the fields again for kept ones, removed for gone ones', () => {
    const { mergeBox, sent } = shared();
    mergeBox.added(a, 's', 'kept', { x: 1 });
    mergeBox.added(a, 's', 'gone', { x: 1 });
    sent.length = 0;
    const finish = mergeBox.beginRebuild();
    mergeBox.added(b, 's', 'kept', { x: 2 });
    mergeBox.added(b, 's', 'new', { y: 1 });
    assert.deepEqual(sent, [], 'nothing while rebuilding');
    finish();
    assert.deepEqual(sent, [
      { msg: 'changed', collection: 's', id: 'kept', fields: { x: 2 } },
      { msg: 'added', collection: 's', id: 'new', fields: { y: 1 } },
      { msg: 'removed', collection: 's', id: 'gone' },
    ]);
  });
});
