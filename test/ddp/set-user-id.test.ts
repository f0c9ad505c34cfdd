import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { CumulusError } from '../../shared/errors.ts';
import { RawDdpClient, startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';

describe('setUserId re-runs the connection\'s subscriptions (docs/PROTOCOL.md §1.10)', () => {
  let server: TestDdpServer;
  let client: RawDdpClient;
  const runs: Array<{ userId: string | null; id: string }> = [];
  const stops: Array<string | null> = [];

  before(async () => {
    server = await startDdpServer();
    const { ddp } = server;
    ddp.publish('mine', async (sub) => {
      runs.push({ userId: sub.userId, id: sub.id });
      sub.onStop(() => stops.push(sub.userId));
      await Promise.resolve();
      sub.added('docs', 'public', { title: 'Hello', viewer: sub.userId ?? 'anonymous', unchanged: true });
      if (sub.userId !== null) sub.added('docs', `private-${sub.userId}`, { secret: 1 });
      sub.ready();
    });
    ddp.publish('membersOnly', (sub) => {
      if (sub.userId === 'mallory') throw new CumulusError(403, 'Not a member');
      sub.added('members', 'm', { n: 1 });
      sub.ready();
    });
    ddp.method('login', (invocation, [userId]) => {
      invocation.setUserId(userId as string | null);
      return { userId: invocation.userId, connectionUser: invocation.connection.userId };
    });
    ddp.method('whoami', (invocation) => invocation.userId);
  });
  after(() => server.stop());
  beforeEach(async () => {
    runs.length = 0;
    stops.length = 0;
    client = await RawDdpClient.connect(server.url);
  });
  afterEach(() => client.close());

  it('sends the difference before the result, then ready again, and stops the old run', async () => {
    await client.subscribe('mine', [], 's1');
    const mark = client.received.length;
    const reply = await client.call('login', ['alice']);
    assert.deepEqual(reply.result, { userId: 'alice', connectionUser: 'alice' });
    await client.nextMessage((m) => m.msg === 'updated');
    assert.deepEqual(client.received.slice(mark), [
      { msg: 'changed', collection: 'docs', id: 'public', fields: { viewer: 'alice' } },
      { msg: 'added', collection: 'docs', id: 'private-alice', fields: { secret: 1 } },
      { msg: 'ready', subs: ['s1'] },
      reply,
      { msg: 'updated', methods: [reply.id] },
    ]);
    assert.deepEqual(runs, [
      { userId: null, id: 's1' },
      { userId: 'alice', id: 's1' },
    ]);
    assert.deepEqual(stops, [null]);
    assert.equal((await client.call('whoami')).result, 'alice');
  });

  it('logging out removes what only the user could see', async () => {
    await client.call('login', ['bob']);
    await client.subscribe('mine', [], 's1');
    const mark = client.received.length;
    await client.call('login', [null]);
    assert.deepEqual(
      client.received.slice(mark).filter((m) => m.msg !== 'result' && m.msg !== 'updated'),
      [
        { msg: 'changed', collection: 'docs', id: 'public', fields: { viewer: 'anonymous' } },
        { msg: 'removed', collection: 'docs', id: 'private-bob' },
        { msg: 'ready', subs: ['s1'] },
      ],
    );
  });

  it('a re-run that fails answers nosub and removes that subscription\'s documents', async () => {
    await client.subscribe('membersOnly', [], 's1');
    const mark = client.received.length;
    await client.call('login', ['mallory']);
    const after = client.received.slice(mark).filter((m) => m.msg !== 'result' && m.msg !== 'updated');
    assert.equal(after[0]?.msg, 'nosub');
    assert.equal((after[0]?.error as { reason: string }).reason, 'Not a member');
    assert.deepEqual(after.slice(1), [{ msg: 'removed', collection: 'members', id: 'm' }]);
    client.send({ msg: 'unsub', id: 's1' });
    assert.deepEqual(await client.nextMessage((m) => m.msg === 'nosub' && m.error === undefined), { msg: 'nosub', id: 's1' });
  });

  it('a login without subscriptions sends only result and updated', async () => {
    const mark = client.received.length;
    await client.call('login', ['carol']);
    await client.nextMessage((m) => m.msg === 'updated');
    assert.deepEqual(
      client.received.slice(mark).map((m) => m.msg),
      ['result', 'updated'],
    );
  });

  it('rejects a userId that is neither a string nor null with a 500', async () => {
    const reply = await client.call('login', [42]);
    assert.equal((reply.error as { error: number }).error, 500);
    assert.equal((await client.call('whoami')).result, null);
  });
});
