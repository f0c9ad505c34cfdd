import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { CumulusError } from '../../shared/errors.ts';
import type { MethodInvocation } from '../../server/ddp/index.ts';
import { RawDdpClient, startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';
import { waitFor } from '../helpers/wait-for.ts';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('methods: result and updated (docs/PROTOCOL.md §1.6, §1.7)', () => {
  let server: TestDdpServer;
  let client: RawDdpClient;
  const logged: string[] = [];

  before(async () => {
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
    server = await startDdpServer({ logger });
    const { ddp } = server;
    ddp.method('value', () => ({ a: 1, b: [2, 3] }));
    ddp.method('nothing', () => undefined);
    ddp.method('null', async () => null);
    ddp.method('params', (_invocation, params) => params);
    ddp.method('conflict', () => {
      throw new CumulusError(409, 'Already taken', 'the details');
    });
    ddp.method('secret', async () => {
      throw new Error('database password is hunter2');
    });
    ddp.method('throwsString', () => {
      throw 'not an error object';
    });
    ddp.method('bigint', () => 10n);
    ddp.method('whoami', (invocation) => ({
      connectionId: invocation.connection.id,
      clientAddress: invocation.connection.clientAddress,
      userId: invocation.userId,
    }));
  });
  after(() => server.stop());
  beforeEach(async () => {
    logged.length = 0;
    client = await RawDdpClient.connect(server.url);
  });
  afterEach(() => client.close());

  async function callWithUpdated(method: string, params: unknown[] = []): Promise<Record<string, unknown>> {
    const reply = await client.call(method, params);
    const updated = await client.nextMessage((m) => m.msg === 'updated');
    assert.deepEqual(updated, { msg: 'updated', methods: [reply.id] });
    assert.ok(client.received.indexOf(reply) < client.received.indexOf(updated), 'result comes before updated');
    return reply;
  }

  it('sends result with the value, no error key, then updated', async () => {
    const reply = await callWithUpdated('value');
    assert.deepEqual(reply, { msg: 'result', id: reply.id, result: { a: 1, b: [2, 3] } });
    assert.deepEqual(Object.keys(reply), ['msg', 'id', 'result']);
  });

  it('omits the result key when the handler returns undefined', async () => {
    const reply = await callWithUpdated('nothing');
    assert.deepEqual(reply, { msg: 'result', id: reply.id });
  });

  it('sends null as "result":null', async () => {
    const reply = await callWithUpdated('null');
    assert.deepEqual(reply, { msg: 'result', id: reply.id, result: null });
  });

  it('passes params, and [] when params is absent', async () => {
    assert.deepEqual((await client.call('params', [1, 'two', { three: 3 }])).result, [1, 'two', { three: 3 }]);
    client.send({ msg: 'method', id: 'noParams', method: 'params' });
    assert.deepEqual((await client.nextMessage((m) => m.id === 'noParams')).result, []);
  });

  it('sends a CumulusError as a serialized Meteor.Error', async () => {
    const reply = await callWithUpdated('conflict');
    assert.deepEqual(reply, {
      msg: 'result',
      id: reply.id,
      error: {
        isClientSafe: true,
        error: 409,
        reason: 'Already taken',
        details: 'the details',
        message: 'Already taken [409]',
        errorType: 'Meteor.Error',
      },
    });
    assert.deepEqual(Object.keys(reply.error as object), ['isClientSafe', 'error', 'reason', 'details', 'message', 'errorType']);
  });

  it('hides any other exception behind a 500 and logs the real one', async () => {
    const reply = await callWithUpdated('secret');
    assert.deepEqual(reply.error, {
      isClientSafe: true,
      error: 500,
      reason: 'Internal server error',
      message: 'Internal server error [500]',
      errorType: 'Meteor.Error',
    });
    assert.equal(JSON.stringify(client.received).includes('hunter2'), false);
    assert.ok(logged.some((line) => line.includes('hunter2')), 'the real error is logged');
  });

  it('turns a thrown non-Error into a 500', async () => {
    const reply = await callWithUpdated('throwsString');
    assert.equal((reply.error as { error: unknown }).error, 500);
  });

  it('turns a result that cannot be encoded into a 500', async () => {
    const reply = await callWithUpdated('bigint');
    assert.equal((reply.error as { error: unknown }).error, 500);
    assert.ok(logged.length > 0);
  });

  it("answers an unknown method with 404 Method '<name>' not found, then updated", async () => {
    const reply = await callWithUpdated('noSuchMethod');
    assert.deepEqual(reply.error, {
      isClientSafe: true,
      error: 404,
      reason: "Method 'noSuchMethod' not found",
      message: "Method 'noSuchMethod' not found [404]",
      errorType: 'Meteor.Error',
    });
  });

  it('gives the handler its connection and user', async () => {
    const connected = client.received[0] as { session: string };
    const reply = await client.call('whoami');
    assert.deepEqual(reply.result, { connectionId: connected.session, clientAddress: '127.0.0.1', userId: null });
  });

  it('refuses a second method of the same name', () => {
    assert.throws(() => server.ddp.method('value', () => 1), /already defined/);
  });
});

describe('methods: ordering, unblock and pings (docs/PROTOCOL.md §1.4, §1.5)', () => {
  let server: TestDdpServer;
  let client: RawDdpClient;
  const started: string[] = [];
  let gates = new Map<string, Deferred>();

  function gate(name: string): Deferred {
    let g = gates.get(name);
    if (g === undefined) gates.set(name, (g = deferred()));
    return g;
  }

  before(async () => {
    server = await startDdpServer();
    const { ddp } = server;
    // Starts, then waits for the test to open its gate.
    ddp.method('wait', async (_invocation, [name]) => {
      started.push(String(name));
      await gate(String(name)).promise;
      return name;
    });
    ddp.method('unblockThenWait', async (invocation, [name]) => {
      started.push(String(name));
      invocation.unblock();
      invocation.unblock();
      await gate(String(name)).promise;
      return name;
    });
    ddp.method('quick', (_invocation, [name]) => {
      started.push(String(name));
      return name;
    });
  });
  after(() => server.stop());
  beforeEach(async () => {
    started.length = 0;
    gates = new Map();
    client = await RawDdpClient.connect(server.url);
  });
  afterEach(async () => {
    for (const g of gates.values()) g.resolve();
    await client.close();
  });

  /** A ping is answered outside the queue, so its pong proves the server has read all earlier frames. */
  async function roundTrip(id: string): Promise<void> {
    client.send({ msg: 'ping', id });
    assert.deepEqual(await client.nextMessage((m) => m.msg === 'pong' && m.id === id), { msg: 'pong', id });
  }

  it('answers a ping while a method of the same connection is blocked on a promise', async () => {
    client.send({ msg: 'method', id: 'm1', method: 'wait', params: ['first'] });
    await waitFor(() => started.includes('first'));
    await roundTrip('while-blocked');
    assert.equal(client.received.some((m) => m.msg === 'result'), false, 'the method is still running');
    gate('first').resolve();
    assert.equal((await client.nextMessage((m) => m.id === 'm1')).result, 'first');
  });

  it('runs the methods of one connection one at a time, in arrival order', async () => {
    client.send({ msg: 'method', id: 'm1', method: 'wait', params: ['first'] });
    client.send({ msg: 'method', id: 'm2', method: 'quick', params: ['second'] });
    await waitFor(() => started.includes('first'));
    await roundTrip('both-received');
    assert.deepEqual(started, ['first'], 'the second has not started');
    gate('first').resolve();
    await client.nextMessage((m) => m.id === 'm2');
    await client.nextMessage((m) => m.msg === 'updated' && (m.methods as string[])[0] === 'm2');
    const order = client.received
      .filter((m) => m.msg === 'result' || m.msg === 'updated')
      .map((m) => `${m.msg}:${String(m.id ?? (m.methods as string[])[0])}`);
    assert.deepEqual(order, ['result:m1', 'updated:m1', 'result:m2', 'updated:m2']);
  });

  it('lets the next message start once a method calls unblock(), and unblock is idempotent', async () => {
    client.send({ msg: 'method', id: 'm1', method: 'unblockThenWait', params: ['first'] });
    client.send({ msg: 'method', id: 'm2', method: 'wait', params: ['second'] });
    client.send({ msg: 'method', id: 'm3', method: 'quick', params: ['third'] });
    await waitFor(() => started.includes('second'));
    await roundTrip('all-received');
    // The double unblock() of the first must not have released the queue twice.
    assert.deepEqual(started, ['first', 'second']);
    gate('second').resolve();
    assert.equal((await client.nextMessage((m) => m.id === 'm3')).result, 'third');
    assert.equal(client.received.some((m) => m.id === 'm1'), false, 'the unblocked method is still running');
    gate('first').resolve();
    assert.equal((await client.nextMessage((m) => m.id === 'm1')).result, 'first');
  });

  it('runs different connections concurrently', async () => {
    const other = await RawDdpClient.connect(server.url);
    try {
      client.send({ msg: 'method', id: 'm1', method: 'wait', params: ['blocked'] });
      await waitFor(() => started.includes('blocked'));
      assert.equal((await other.call('quick', ['other'])).result, 'other');
    } finally {
      await other.close();
    }
  });
});

describe('methods: the write fence (docs/PROTOCOL.md §1.6)', () => {
  let server: TestDdpServer;
  let client: RawDdpClient;
  let flushes = 0;
  let release = deferred();

  before(async () => {
    server = await startDdpServer();
    const { ddp } = server;
    let pending: Record<string, unknown> | undefined;
    ddp.publish('counter', (sub) => {
      sub.added('counters', 'c', { n: 0 });
      sub.onFence(async () => {
        flushes += 1;
        await release.promise;
        if (pending !== undefined) sub.changed('counters', 'c', pending);
        pending = undefined;
      });
      sub.onFence(() => {
        throw new Error('a failing flush must not hold back updated');
      });
      sub.ready();
    });
    ddp.method('bump', (_invocation, [n]) => {
      pending = { n };
      return n;
    });
  });
  after(() => server.stop());
  beforeEach(async () => {
    flushes = 0;
    release = deferred();
    client = await RawDdpClient.connect(server.url);
  });
  afterEach(() => client.close());

  it('sends updated only after every fence flush, so the data arrives before it', async () => {
    await client.subscribe('counter');
    const reply = await client.call('bump', [5]);
    assert.equal(reply.result, 5);
    await waitFor(() => flushes === 1);
    assert.equal(client.received.some((m) => m.msg === 'updated'), false, 'updated waits for the fence');
    release.resolve();
    await client.nextMessage((m) => m.msg === 'updated');
    const kinds = client.received.slice(-3).map((m) => m.msg);
    assert.deepEqual(kinds, ['result', 'changed', 'updated']);
    assert.deepEqual(client.received.at(-2), { msg: 'changed', collection: 'counters', id: 'c', fields: { n: 5 } });
  });

  it('does not hold the next message behind a slow fence, yet keeps updated in method order', async () => {
    await client.subscribe('counter');
    const first = await client.call('bump', [1]);
    const second = await client.call('bump', [2]);
    assert.equal(client.received.some((m) => m.msg === 'updated'), false);
    release.resolve();
    await client.nextMessage((m) => m.msg === 'updated' && (m.methods as string[])[0] === second.id);
    const updated = client.received.filter((m) => m.msg === 'updated').map((m) => (m.methods as string[])[0]);
    assert.deepEqual(updated, [first.id, second.id]);
  });
});

describe('MethodInvocation.setUserId guard', () => {
  it('refuses setUserId after unblock() with a 500', async () => {
    const server = await startDdpServer();
    let seen: MethodInvocation | undefined;
    server.ddp.method('late', (invocation) => {
      seen = invocation;
      invocation.unblock();
      invocation.setUserId('u');
    });
    const client = await RawDdpClient.connect(server.url);
    try {
      const reply = await client.call('late');
      assert.equal((reply.error as { error: number }).error, 500);
      assert.equal(seen?.connection.userId, null);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
