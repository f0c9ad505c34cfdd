/** A simpleddp@2.2.4 client on `ws`, connected to a test server. */
import simpleDDPModule from 'simpleddp';
import WebSocket from 'ws';

// simpleddp is CommonJS with `exports.default`: under ESM the class sits one level down.
const SimpleDDP = ((simpleDDPModule as unknown as { default?: typeof simpleDDPModule }).default ?? simpleDDPModule);
export type SimpleDDP = InstanceType<typeof SimpleDDP>;

export async function connectSimpleDdp(wsUrl: string): Promise<SimpleDDP> {
  const client = new SimpleDDP({ endpoint: wsUrl, SocketConstructor: WebSocket, reconnectInterval: 5000, autoReconnect: false });
  await client.connect();
  return client;
}
