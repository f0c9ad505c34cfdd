// End to end with the unchanged npm `ddp@0.12.1` client, which meteor-job uses.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { CumulusError } from '../../shared/errors.ts';
import { ObjectId } from '../../shared/object-id.ts';
import type { Subscription } from '../../server/ddp/index.ts';
import { startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';
import { waitFor } from '../helpers/wait-for.ts';

type Doc = Record<string, unknown>;
type Callback = (error: unknown, result?: unknown) => void;

/** The part of `ddp`'s client this test uses (the package ships no types). */
interface DdpClient {
  collections: Record<string, Record<string, Doc> | undefined>;
  EJSON: { parse(text: string): unknown };
  connect(cb: (error: unknown, reconnecting: boolean) => void): void;
  call(name: string, params: unknown[], cb: Callback, updatedCb?: () => void): void;
  subscribe(name: string, params: unknown[], cb: (error?: unknown) => void): string;
  unsubscribe(id: string): void;
  on(event: 'message', listener: (text: string) => void): void;
  on(event: 'socket-close', listener: (code: number) => void): void;
  close(): void;
}
type DdpClientConstructor = new (options: { host: string; port: number; autoReconnect: boolean; maintainCollections: boolean }) => DdpClient;

const DDPClient = createRequire(import.meta.url)('ddp') as DdpClientConstructor;

describe('npm ddp@0.12.1 client against DdpServer', () => {
  let server: TestDdpServer;
  let client: DdpClient;
  let closed: Promise<number>;
  let itemsSub: Subscription | undefined;
  const messages: string[] = [];

  before(async () => {
    server = await startDdpServer({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 2000 });
    const { ddp } = server;
    ddp.method('add', (_invocation, [a, b]) => (a as number) + (b as number));
    ddp.method('nothing', () => undefined);
    ddp.method('refuse', () => {
      throw new CumulusError(403, 'Method not authorized');
    });
    ddp.method('oidHex', (_invocation, [id]) => (id instanceof ObjectId ? id.toHexString() : 'not an ObjectId'));
    ddp.publish('items', (sub) => {
      itemsSub = sub;
      sub.added('items', 'a', { title: 'A', n: 1 });
      sub.added('items', 'b', { title: 'B' });
      sub.ready();
    });
    client = new DDPClient({ host: '127.0.0.1', port: server.port, autoReconnect: false, maintainCollections: true });
    client.on('message', (text) => messages.push(text));
    closed = new Promise((resolve) => client.on('socket-close', resolve));
    await new Promise<void>((resolve, reject) => client.connect((error) => (error ? reject(new Error(String(error))) : resolve())));
  });
  after(async () => {
    client.close();
    await closed;
    await server.stop();
  });

  function call(name: string, params: unknown[]): Promise<{ error: unknown; result: unknown; updated: Promise<void> }> {
    return new Promise((resolve) => {
      let markUpdated!: () => void;
      const updated = new Promise<void>((r) => (markUpdated = r));
      client.call(name, params, (error, result) => resolve({ error, result, updated }), () => markUpdated());
    });
  }

  it('calls a method and gets its result and updated callbacks', async () => {
    const reply = await call('add', [2, 3]);
    assert.equal(reply.error, undefined);
    assert.equal(reply.result, 5);
    await reply.updated;
  });

  it('gets undefined for a method without a result', async () => {
    const reply = await call('nothing', []);
    assert.equal(reply.error, undefined);
    assert.equal(reply.result, undefined);
  });

  it('gets Meteor error objects for failures and unknown methods', async () => {
    const refused = await call('refuse', []);
    assert.deepEqual(refused.error, {
      isClientSafe: true,
      error: 403,
      reason: 'Method not authorized',
      message: 'Method not authorized [403]',
      errorType: 'Meteor.Error',
    });
    const unknown = await call('nope', []);
    assert.equal((unknown.error as { error: number }).error, 404);
    await unknown.updated;
  });

  it("sends an ObjectID from ddp-ejson that the server decodes", async () => {
    const oid = client.EJSON.parse('{"$type":"oid","$value":"0123456789abcdef01234567"}');
    const reply = await call('oidHex', [oid]);
    assert.equal(reply.result, '0123456789abcdef01234567');
  });

  it('subscribes, keeps its collections in step, and survives unsubscribing', async () => {
    await new Promise<void>((resolve, reject) => {
      client.subscribe('items', [], (error) => (error ? reject(new Error(JSON.stringify(error))) : resolve()));
    });
    assert.deepEqual(client.collections.items, {
      a: { _id: 'a', title: 'A', n: 1 },
      b: { _id: 'b', title: 'B' },
    });
    itemsSub?.changed('items', 'a', { n: 2, title: undefined });
    itemsSub?.removed('items', 'b');
    await waitFor(() => client.collections.items?.b === undefined && client.collections.items?.a?.n === 2);
    assert.deepEqual(client.collections.items, { a: { _id: 'a', n: 2 } });
  });

  it('gets an error in the subscribe callback for an unknown publication', async () => {
    const error = await new Promise((resolve) => client.subscribe('nope', [], resolve));
    assert.equal((error as { error: number }).error, 404);
  });

  it('answers server pings, so heartbeats keep it connected', async () => {
    await waitFor(() => messages.filter((m) => m === '{"msg":"ping"}').length >= 3, { description: 'three server pings' });
    const reply = await call('add', [1, 1]);
    assert.equal(reply.result, 2);
  });
});
