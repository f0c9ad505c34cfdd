// End to end with the unchanged npm `simpleddp@2.2.4` client, which the worker library uses.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { CumulusError } from '../../shared/errors.ts';
import type { Subscription } from '../../server/ddp/index.ts';
import { startDdpServer, type TestDdpServer } from '../helpers/raw-ddp-client.ts';
import { waitFor } from '../helpers/wait-for.ts';

type Doc = Record<string, unknown>;

/** The part of simpleddp this test uses (the package ships no types). */
interface SimpleDdp {
  connected: boolean;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  call(method: string, ...args: unknown[]): Promise<unknown>;
  sub(name: string, params?: unknown[]): { ready(): Promise<void>; stop(): Promise<void> };
  collection(name: string): { fetch(): Doc[] };
}
type SimpleDdpConstructor = new (options: { endpoint: string; SocketConstructor: unknown; reconnectInterval: number }) => SimpleDdp;

const required = createRequire(import.meta.url)('simpleddp') as SimpleDdpConstructor | { default: SimpleDdpConstructor };
const SimpleDDP = 'default' in required ? required.default : required;

let pings = 0;
/** ws' client, counting the server's pings that simpleddp answers. */
class CountingWebSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    this.on('message', (data) => {
      if (data.toString() === '{"msg":"ping"}') pings += 1;
    });
  }
}

describe('npm simpleddp@2.2.4 client against DdpServer', () => {
  let server: TestDdpServer;
  let client: SimpleDdp;
  let itemsSub: Subscription | undefined;

  before(async () => {
    server = await startDdpServer({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 2000 });
    const { ddp } = server;
    ddp.method('add', (_invocation, [a, b]) => (a as number) + (b as number));
    ddp.method('nothing', () => undefined);
    ddp.method('nullish', () => null);
    ddp.method('refuse', () => {
      throw new CumulusError(409, 'Conflict');
    });
    ddp.publish('items', (sub) => {
      itemsSub = sub;
      sub.added('items', 'a', { title: 'A' });
      sub.ready();
    });
    client = new SimpleDDP({
      endpoint: `ws://127.0.0.1:${server.port}/websocket`,
      SocketConstructor: CountingWebSocket,
      reconnectInterval: 5000,
    });
    await client.connect();
  });
  after(async () => {
    await client.disconnect();
    await server.stop();
  });

  it('calls methods with results, undefined and null', async () => {
    assert.equal(await client.call('add', 2, 3), 5);
    assert.equal(await client.call('nothing'), undefined);
    assert.equal(await client.call('nullish'), null);
  });

  it('rejects with the Meteor error object', async () => {
    await assert.rejects(client.call('refuse'), (error: unknown) => {
      assert.equal((error as { error: number }).error, 409);
      assert.equal((error as { reason: string }).reason, 'Conflict');
      return true;
    });
    await assert.rejects(client.call('nope'), (error: unknown) => (error as { error: number }).error === 404);
  });

  it('subscribes and keeps the collection in step', async () => {
    const sub = client.sub('items', []);
    await sub.ready();
    assert.deepEqual(client.collection('items').fetch(), [{ id: 'a', title: 'A' }]);
    itemsSub?.added('items', 'b', { title: 'B' });
    itemsSub?.changed('items', 'a', { title: 'A2' });
    await waitFor(() => client.collection('items').fetch().length === 2);
    await waitFor(() => client.collection('items').fetch().some((d) => d.title === 'A2'));
    await sub.stop();
    await waitFor(() => client.collection('items').fetch().length === 0);
  });

  it('answers server pings, so heartbeats keep it connected', async () => {
    await waitFor(() => pings >= 3, { description: 'three server pings' });
    assert.equal(client.connected, true);
    assert.equal(await client.call('add', 1, 1), 2);
  });
});
