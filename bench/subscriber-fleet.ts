/**
 * A fleet of subscribed connections in a process of its own, so that the cost of reading what
 * the server sends them is not the benchmark's: `node --import tsx bench/subscriber-fleet.ts
 * <wsUrl> <count> [paramsJson]`. Each connection subscribes to `queue.jobs` and reads every
 * frame (answering pings, parsing nothing else). It prints `ready` once all are subscribed,
 * then, on each line read from stdin, the bytes and frames received so far.
 */
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const [wsUrl, countText = '0', paramsText = '[]'] = process.argv.slice(2);
if (wsUrl === undefined) throw new Error('usage: subscriber-fleet <wsUrl> <count> [paramsJson]');
const count = Number(countText);
let bytes = 0;
let frames = 0;

async function subscribe(): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl as string);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const ready = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      bytes += data.length;
      frames += 1;
      const text = data.toString('utf8', 0, Math.min(data.length, 32));
      if (text.startsWith('{"msg":"ping"')) ws.send('{"msg":"pong"}');
      else if (text.startsWith('{"msg":"ready"')) resolve();
    });
  });
  ws.send(JSON.stringify({ msg: 'connect', version: '1', support: ['1'] }));
  ws.send(JSON.stringify({ msg: 'sub', id: 's', name: 'queue.jobs', params: JSON.parse(paramsText) as unknown[] }));
  await ready;
  return ws;
}

const fleet: WebSocket[] = [];
for (let i = 0; i < count; i += 50) fleet.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => subscribe()))));
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).on('line', () => process.stdout.write(`${JSON.stringify({ bytes, frames })}\n`));
process.stdin.on('end', () => {
  for (const ws of fleet) ws.terminate();
  process.exit(0);
});
