import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import EJSON from 'ejson';
import { setupEjson } from '../../server/ddp/index.ts';
import { ObjectId } from '../../shared/object-id.ts';
import { RawDdpClient, startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';

describe('EJSON on the wire (docs/PROTOCOL.md §1.9)', () => {
  let server: TestDdpServer;
  let client: RawDdpClient;
  let lastParams: unknown[] = [];

  before(async () => {
    server = await startDdpServer();
    server.ddp.method('inspect', (_invocation, params) => {
      lastParams = params;
      return params.map((p) => (p instanceof ObjectId ? `oid:${p.toHexString()}` : p instanceof Date ? `date:${p.getTime()}` : typeof p));
    });
    server.ddp.method('echo', (_invocation, params) => params[0]);
    client = await RawDdpClient.connect(server.url);
  });
  after(async () => {
    await client.close();
    await server.stop();
  });

  /** The exact text of the result frame for `id`, after sending `text`. */
  function rawResult(id: string, text: string): Promise<string> {
    return new Promise((resolve) => {
      const listener = (data: Buffer) => {
        const frame = data.toString();
        if (frame.startsWith(`{"msg":"result","id":"${id}"`)) {
          client.ws.off('message', listener);
          resolve(frame);
        }
      };
      client.ws.on('message', listener);
      client.sendRaw(text);
    });
  }

  it('decodes an ObjectID param into an ObjectId', async () => {
    client.sendRaw('{"msg":"method","id":"o1","method":"inspect","params":[{"$type":"oid","$value":"0123456789abcdef01234567"},{"$date":5}]}');
    const reply = await client.nextMessage((m) => m.id === 'o1');
    assert.deepEqual(reply.result, ['oid:0123456789abcdef01234567', 'date:5']);
    assert.ok(lastParams[0] instanceof ObjectId);
  });

  it('encodes an ObjectId result as {"$type":"oid","$value":hex}', async () => {
    const raw = await rawResult('o2', '{"msg":"method","id":"o2","method":"echo","params":[{"$type":"oid","$value":"89abcdef0123456789abcdef"}]}');
    assert.equal(raw, '{"msg":"result","id":"o2","result":{"$type":"oid","$value":"89abcdef0123456789abcdef"}}');
    const decoded = await client.nextMessage((m) => m.id === 'o2');
    assert.ok(decoded.result instanceof ObjectId);
  });

  it('round-trips dates, binary, NaN/Infinity and escaped look-alikes, keeping key order', async () => {
    const value = {
      z: 1,
      when: new Date(8640000000000000),
      bytes: new Uint8Array([0, 255, 7]),
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      escaped: { $date: 'not a date' },
      a: [undefined, 2],
    };
    const raw = await rawResult('rt', EJSON.stringify({ msg: 'method', id: 'rt', method: 'echo', params: [value] }));
    assert.equal(
      raw,
      '{"msg":"result","id":"rt","result":{"z":1,"when":{"$date":8640000000000000},"bytes":{"$binary":"AP8H"},' +
        '"nan":{"$InfNaN":0},"inf":{"$InfNaN":-1},"escaped":{"$escape":{"$date":"not a date"}},"a":[null,2]}}',
    );
  });

  it('setupEjson can be called again', () => {
    setupEjson();
    setupEjson();
    assert.ok(EJSON.parse('{"$type":"oid","$value":"0123456789abcdef01234567"}') instanceof ObjectId);
  });
});

describe('ObjectId', () => {
  it('folds case, refuses anything but 24 hex characters, and compares by value', () => {
    const id = new ObjectId('0123456789ABCDEF01234567');
    assert.equal(id.toHexString(), '0123456789abcdef01234567');
    assert.equal(id.typeName(), 'oid');
    assert.equal(id.toJSONValue(), '0123456789abcdef01234567');
    assert.ok(id.equals(id.clone()));
    assert.ok(EJSON.equals(id, new ObjectId('0123456789abcdef01234567')));
    assert.equal(id.equals('0123456789abcdef01234567'), false);
    assert.throws(() => new ObjectId('xyz'), TypeError);
    assert.throws(() => new ObjectId('0123456789abcdef0123456'), TypeError);
  });
});
