import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { CumulusError } from '../../shared/errors.ts';
import { ObjectId } from '../../shared/object-id.ts';
import type { Subscription } from '../../server/ddp/index.ts';
import { RawDdpClient, startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('subscriptions (docs/PROTOCOL.md §1.8)', () => {
  let server: TestDdpServer;
  let client: RawDdpClient;
  const runs: Array<{ name: string; params: unknown[]; sub: Subscription }> = [];
  const stopped: string[] = [];

  before(async () => {
    server = await startDdpServer();
    const { ddp } = server;
    const track = (name: string, sub: Subscription, params: unknown[]) => {
      runs.push({ name, params, sub });
      sub.onStop(() => stopped.push(`${name}:${sub.id}`));
    };
    ddp.publish('items', (sub, params) => {
      track('items', sub, params);
      sub.added('items', 'a', { title: 'A', _id: 'ignored' });
      sub.added('items', 'b', {});
      sub.ready();
      sub.ready();
    });
    ddp.publish('later', async (sub, params) => {
      track('later', sub, params);
      await Promise.resolve();
      sub.ready();
    });
    ddp.publish('throws', (sub, params) => {
      track('throws', sub, params);
      sub.added('items', 'doomed', { x: 1 });
      throw new Error('publication exploded with secrets');
    });
    ddp.publish('rejects', async (sub, params) => {
      track('rejects', sub, params);
      throw new CumulusError(403, 'Not for you');
    });
    ddp.publish('oddIds', (sub, params) => {
      track('oddIds', sub, params);
      sub.added('odd', '0123456789abcdef01234567', { kind: 'hex string' });
      sub.added('odd', new ObjectId('89abcdef0123456789abcdef'), { kind: 'ObjectID' });
      sub.added('odd', '-dash', { kind: 'dash' });
      sub.removed('odd', 'neverAdded');
      sub.changed('odd', 'neverAdded', { x: 1 });
      sub.ready();
    });
    ddp.publish('manual', (sub, params) => {
      track('manual', sub, params);
      sub.added('items', 'm', { v: 1 });
      sub.ready();
    });
    ddp.method('echo', (_invocation, params) => params);
  });
  after(() => server.stop());
  beforeEach(async () => {
    runs.length = 0;
    stopped.length = 0;
    client = await RawDdpClient.connect(server.url);
  });
  afterEach(() => client.close());

  /** A method round trip: every queued message before it has been handled. */
  const barrier = () => client.call('echo');
  const since = (from: number) => client.received.slice(from).filter((m) => m.msg !== 'result' && m.msg !== 'updated');

  it('sends the initial batch, then ready once', async () => {
    assert.deepEqual(await client.subscribe('items', [1, 'two'], 's1'), { msg: 'ready', subs: ['s1'] });
    await barrier();
    assert.deepEqual(since(1), [
      { msg: 'added', collection: 'items', id: 'a', fields: { title: 'A' } },
      { msg: 'added', collection: 'items', id: 'b' },
      { msg: 'ready', subs: ['s1'] },
    ]);
    assert.deepEqual(runs[0]?.params, [1, 'two']);
    assert.equal(runs[0]?.sub.id, 's1');
    assert.equal(runs[0]?.sub.userId, null);
    assert.equal(runs[0]?.sub.connection.id, client.received[0]?.session);
  });

  it('passes [] when params is absent and waits for an async publication', async () => {
    client.send({ msg: 'sub', id: 's1', name: 'later' });
    assert.deepEqual(await client.nextMessage((m) => m.msg === 'ready'), { msg: 'ready', subs: ['s1'] });
    assert.deepEqual(runs[0]?.params, []);
  });

  it("answers an unknown publication with nosub 404 Subscription '<name>' not found", async () => {
    assert.deepEqual(await client.subscribe('nope', [], 's1'), {
      msg: 'nosub',
      id: 's1',
      error: {
        isClientSafe: true,
        error: 404,
        reason: "Subscription 'nope' not found",
        message: "Subscription 'nope' not found [404]",
        errorType: 'Meteor.Error',
      },
    });
  });

  it('unsub removes the documents, then answers nosub without error, and calls onStop', async () => {
    await client.subscribe('items', [], 's1');
    const mark = client.received.length;
    client.send({ msg: 'unsub', id: 's1' });
    assert.deepEqual(await client.nextMessage((m) => m.msg === 'nosub'), { msg: 'nosub', id: 's1' });
    assert.deepEqual(since(mark), [
      { msg: 'removed', collection: 'items', id: 'a' },
      { msg: 'removed', collection: 'items', id: 'b' },
      { msg: 'nosub', id: 's1' },
    ]);
    assert.deepEqual(stopped, ['items:s1']);
  });

  it('answers unsub of an unknown or already stopped id with nosub', async () => {
    client.send({ msg: 'unsub', id: 'never' });
    assert.deepEqual(await client.nextMessage((m) => m.msg === 'nosub'), { msg: 'nosub', id: 'never' });
    await client.subscribe('items', [], 's1');
    client.send({ msg: 'unsub', id: 's1' });
    await client.nextMessage((m) => m.msg === 'nosub' && m.id === 's1');
    client.send({ msg: 'unsub', id: 's1' });
    assert.deepEqual(await client.nextMessage((m) => m.msg === 'nosub'), { msg: 'nosub', id: 's1' });
  });

  it('ignores a sub whose id is already active', async () => {
    await client.subscribe('items', [], 's1');
    client.send({ msg: 'sub', id: 's1', name: 'manual', params: [] });
    await barrier();
    assert.equal(runs.length, 1);
    assert.deepEqual(
      client.received.filter((m) => m.msg === 'ready' || m.msg === 'nosub' || m.msg === 'added').length,
      3,
    );
  });

  it('a throwing publication gets nosub with a 500 and its documents removed', async () => {
    const reply = await client.subscribe('throws', [], 's1');
    assert.deepEqual(reply, {
      msg: 'nosub',
      id: 's1',
      error: { isClientSafe: true, error: 500, reason: 'Internal server error', message: 'Internal server error [500]', errorType: 'Meteor.Error' },
    });
    assert.deepEqual(since(1), [
      { msg: 'added', collection: 'items', id: 'doomed', fields: { x: 1 } },
      { msg: 'removed', collection: 'items', id: 'doomed' },
      reply,
    ]);
    assert.equal(JSON.stringify(client.received).includes('secrets'), false);
    assert.deepEqual(stopped, ['throws:s1']);
  });

  it('a publication rejecting with a CumulusError gets nosub with that error', async () => {
    const reply = await client.subscribe('rejects', [], 's1');
    assert.equal((reply.error as { reason: string }).reason, 'Not for you');
    assert.equal((reply.error as { error: number }).error, 403);
  });

  it('sends ids through idStringify and never removes or changes what was not added', async () => {
    await client.subscribe('oddIds', [], 's1');
    assert.deepEqual(
      since(1).map((m) => [m.msg, m.id]),
      [
        ['added', '-0123456789abcdef01234567'],
        ['added', '89abcdef0123456789abcdef'],
        ['added', '--dash'],
        ['ready', undefined],
      ],
    );
  });

  it('stop() from the server answers nosub without error and removes the documents', async () => {
    await client.subscribe('manual', [], 's1');
    runs[0]?.sub.stop();
    assert.deepEqual(await client.nextMessage((m) => m.msg === 'nosub'), { msg: 'nosub', id: 's1' });
    assert.deepEqual(client.received.at(-2), { msg: 'removed', collection: 'items', id: 'm' });
    // A stopped subscription ignores everything afterwards.
    runs[0]?.sub.added('items', 'late', {});
    runs[0]?.sub.ready();
    runs[0]?.sub.error(new Error('late'));
    await barrier();
    assert.equal(client.received.some((m) => m.id === 'late' || (m.msg === 'nosub' && m.error !== undefined)), false);
    assert.deepEqual(stopped, ['manual:s1']);
  });

  it('error() from the server answers nosub with the error', async () => {
    await client.subscribe('manual', [], 's1');
    runs[0]?.sub.error(new CumulusError(410, 'Gone away'));
    const nosub = await client.nextMessage((m) => m.msg === 'nosub');
    assert.equal((nosub.error as { reason: string }).reason, 'Gone away');
  });

  it('onStop registered after the stop runs at once', async () => {
    await client.subscribe('manual', [], 's1');
    runs[0]?.sub.stop();
    let ran = false;
    runs[0]?.sub.onStop(() => {
      ran = true;
    });
    assert.equal(ran, true);
  });

  it('stops every subscription and runs onClose when the connection closes', async () => {
    await client.subscribe('items', [], 's1');
    await client.subscribe('manual', [], 's2');
    let closed = 0;
    runs[0]?.sub.connection.onClose(() => {
      closed += 1;
    });
    await client.close();
    await waitFor(() => stopped.length === 2 && closed === 1, { description: 'subscriptions stopped and onClose run' });
    assert.deepEqual(stopped.sort(), ['items:s1', 'manual:s2']);
    // After the close, hooks run at once and publishing is a no-op.
    runs[0]?.sub.connection.onClose(() => {
      closed += 1;
    });
    runs[1]?.sub.added('items', 'x', {});
    assert.equal(closed, 2);
  });

  it('refuses a second publication of the same name', () => {
    assert.throws(() => server.ddp.publish('items', () => undefined), /already defined/);
  });
});
