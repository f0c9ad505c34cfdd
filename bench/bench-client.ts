/** A lean DDP client for benchmarks: one websocket, calls matched to results by id, nothing kept. */
import EJSON from 'ejson';
import WebSocket from 'ws';

export class BenchClient {
  private nextId = 0;
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = EJSON.parse(data.toString()) as { msg?: string; id?: string; result?: unknown; error?: unknown };
      if (message.msg === 'ping') ws.send(JSON.stringify({ msg: 'pong' }));
      if (message.msg !== 'result' || message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(message.error);
      else waiter?.resolve(message.result);
    });
  }

  static async connect(wsUrl: string): Promise<BenchClient> {
    const ws = new WebSocket(wsUrl);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const client = new BenchClient(ws);
    const connected = new Promise<void>((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        if ((JSON.parse(data.toString()) as { msg?: string }).msg !== 'connected') return;
        ws.off('message', onMessage);
        resolve();
      };
      ws.on('message', onMessage);
    });
    ws.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] }));
    await connected;
    return client;
  }

  call(method: string, ...params: unknown[]): Promise<unknown> {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(EJSON.stringify({ msg: 'method', id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}
