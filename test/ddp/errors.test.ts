import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { RawDdpClient, startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';

describe('connection-level error frames (docs/PROTOCOL.md §1.3)', () => {
  let server: TestDdpServer;
  let client: RawDdpClient;
  const calls: unknown[][] = [];

  before(async () => {
    server = await startDdpServer();
    server.ddp.method('echo', (_invocation, params) => {
      calls.push(params);
      return params;
    });
    server.ddp.publish('nothing', (sub) => sub.ready());
  });
  after(() => server.stop());
  beforeEach(async () => {
    calls.length = 0;
    client = await RawDdpClient.connect(server.url);
  });
  afterEach(() => client.close());

  /** The next error frame, then proof that the connection still serves calls. */
  async function expectError(expected: object): Promise<void> {
    assert.deepEqual(await client.nextMessage((m) => m.msg === 'error'), expected);
    const reply = await client.call('echo', ['still open']);
    assert.deepEqual(reply.result, ['still open']);
  }

  it('answers text that is not JSON with Bad request and no offendingMessage', async () => {
    client.sendRaw('{not json');
    await expectError({ msg: 'error', reason: 'Bad request' });
  });

  for (const text of ['42', '"connect"', '[{"msg":"ping"}]', 'null', 'true']) {
    it(`answers the JSON non-object ${text} with Bad request`, async () => {
      client.sendRaw(text);
      await expectError({ msg: 'error', reason: 'Bad request' });
    });
  }

  it('answers undecodable EJSON in params with Parse error and runs nothing', async () => {
    client.sendRaw('{"msg":"method","id":"bad","method":"echo","params":[{"$type":"nope","$value":1}]}');
    await expectError({ msg: 'error', reason: 'Parse error' });
    assert.equal(calls.length, 1, 'only the probe call ran');
    assert.equal(client.received.some((m) => m.msg === 'result' && m.id === 'bad'), false);
  });

  it('answers an ObjectID with bad hex as a Parse error', async () => {
    client.sendRaw('{"msg":"method","id":"bad","method":"echo","params":[{"$type":"oid","$value":"xyz"}]}');
    await expectError({ msg: 'error', reason: 'Parse error' });
  });

  for (const field of ['fields', 'result']) {
    it(`answers undecodable EJSON in ${field} with Parse error`, async () => {
      client.sendRaw(`{"msg":"added","collection":"c","id":"1","${field}":{"a":{"$type":"nope","$value":1}}}`);
      await expectError({ msg: 'error', reason: 'Parse error' });
    });
  }

  it('answers an object without msg with Bad request and the offending message', async () => {
    client.send({ id: '1', method: 'echo' });
    await expectError({ msg: 'error', reason: 'Bad request', offendingMessage: { id: '1', method: 'echo' } });
  });

  it('answers an unknown msg with Bad request and the offending message', async () => {
    client.send({ msg: 'frobnicate', x: 1 });
    await expectError({ msg: 'error', reason: 'Bad request', offendingMessage: { msg: 'frobnicate', x: 1 } });
  });

  it('answers a second connect with Already connected', async () => {
    const connect = { msg: 'connect', version: '1', support: ['1'] };
    client.send(connect);
    await expectError({ msg: 'error', reason: 'Already connected', offendingMessage: connect });
  });

  const malformedMethods: Array<[string, object]> = [
    ['id is not a string', { msg: 'method', id: 1, method: 'echo', params: [] }],
    ['id is missing', { msg: 'method', method: 'echo', params: [] }],
    ['method is not a string', { msg: 'method', id: '1', method: ['echo'], params: [] }],
    ['params is not an array', { msg: 'method', id: '1', method: 'echo', params: { a: 1 } }],
    ['params is null', { msg: 'method', id: '1', method: 'echo', params: null }],
    ['randomSeed is not a string', { msg: 'method', id: '1', method: 'echo', params: [], randomSeed: 7 }],
  ];
  for (const [why, message] of malformedMethods) {
    it(`answers a method whose ${why} with Malformed method invocation`, async () => {
      client.send(message);
      await expectError({ msg: 'error', reason: 'Malformed method invocation', offendingMessage: message });
      assert.equal(calls.length, 1, 'only the probe call ran');
    });
  }

  const malformedSubs: Array<[string, object]> = [
    ['id is not a string', { msg: 'sub', id: 5, name: 'nothing', params: [] }],
    ['name is not a string', { msg: 'sub', id: 's', name: null, params: [] }],
    ['params is not an array', { msg: 'sub', id: 's', name: 'nothing', params: 'x' }],
  ];
  for (const [why, message] of malformedSubs) {
    it(`answers a sub whose ${why} with Malformed subscription`, async () => {
      client.send(message);
      await expectError({ msg: 'error', reason: 'Malformed subscription', offendingMessage: message });
      assert.equal(client.received.some((m) => m.msg === 'ready' || m.msg === 'nosub'), false);
    });
  }

  it('still answers Bad request when the offending message is too deep to encode again', async () => {
    client.sendRaw(`{"msg":"frob","x":${'['.repeat(20000)}1${']'.repeat(20000)}}`);
    await expectError({ msg: 'error', reason: 'Bad request' });
  });

  it('survives hostile frames and keeps serving the connection', async () => {
    const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    for (const frame of [
      deep(200000),
      `{"msg":"method","id":"d","method":"echo","params":${deep(50000)}}`,
      '{"msg":"unsub","id":{"a":1}}',
      '{"msg":"method","id":"p","method":"__proto__"}',
      '{"msg":"sub","id":"__proto__","name":"nothing"}',
      '{"msg":"method","id":"r","method":"echo","params":[{"$regexp":"(","$flags":"g"}]}',
      '\u0000\uffff',
      '',
      '{"msg":""}',
    ]) {
      client.sendRaw(frame);
    }
    const reply = await client.call('echo', ['alive']);
    assert.deepEqual(reply.result, ['alive']);
    assert.deepEqual(client.received.find((m) => m.id === 'p')?.error, {
      isClientSafe: true,
      error: 404,
      reason: "Method '__proto__' not found",
      message: "Method '__proto__' not found [404]",
      errorType: 'Meteor.Error',
    });
    assert.deepEqual(client.received.find((m) => m.msg === 'ready'), { msg: 'ready', subs: ['__proto__'] });
  });

  it('ignores unknown extra fields and accepts a missing params and a string randomSeed', async () => {
    client.send({ msg: 'method', id: 'x1', method: 'echo', randomSeed: 'seed', extra: { any: 'thing' } });
    const reply = await client.nextMessage((m) => m.msg === 'result' && m.id === 'x1');
    assert.deepEqual(reply, { msg: 'result', id: 'x1', result: [] });
    client.send({ msg: 'sub', id: 's1', name: 'nothing', extra: true });
    assert.deepEqual(await client.nextMessage((m) => m.msg === 'ready'), { msg: 'ready', subs: ['s1'] });
    assert.equal(client.received.some((m) => m.msg === 'error'), false);
  });
});

describe('messages before connect (docs/PROTOCOL.md §1.3)', () => {
  let server: TestDdpServer;
  before(async () => {
    server = await startDdpServer();
    server.ddp.method('echo', (_invocation, params) => params);
  });
  after(() => server.stop());

  for (const message of [
    { msg: 'method', id: '1', method: 'echo', params: [] },
    { msg: 'sub', id: '1', name: 'x' },
    { msg: 'ping', id: 'p' },
    { msg: 'unknown' },
  ]) {
    it(`answers ${message.msg} before connect with Must connect first, then still accepts connect`, async () => {
      const client = await RawDdpClient.open(server.url);
      try {
        client.send(message);
        assert.deepEqual(await client.nextMessage(), { msg: 'error', reason: 'Must connect first', offendingMessage: message });
        assert.equal((await client.handshake()).msg, 'connected');
        assert.deepEqual((await client.call('echo', [1])).result, [1]);
      } finally {
        await client.close();
      }
    });
  }

  it('answers a message without msg before connect with Bad request, not Must connect first', async () => {
    const client = await RawDdpClient.open(server.url);
    try {
      client.send({ hello: 1 });
      assert.deepEqual(await client.nextMessage(), { msg: 'error', reason: 'Bad request', offendingMessage: { hello: 1 } });
    } finally {
      await client.close();
    }
  });
});
