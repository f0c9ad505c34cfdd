// Starting and stopping the composed server in-process.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServer } from '../../server/app/cumulus-server.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { RawDdpClient } from '../helpers/raw-ddp-client.ts';
import { startTestServer } from '../helpers/start-server.ts';

describe('server lifecycle', () => {
  it('stops once, however often stop() is called, answering waiting workers first', async () => {
    const server = await startTestServer();
    const client = await RawDdpClient.connect(server.url, { autoPong: true, timeoutMs: 10_000 });
    const id = client.newId();
    client.send({ msg: 'method', id, method: 'queue_getWork', params: ['nothing', { waitMs: 60_000 }] });
    // The waiting call is parked (unblocked) once the next call on the connection is answered.
    assert.equal((await client.call('queue_getJob', ['missing'])).result, null);
    const first = server.server.stop();
    const second = server.server.stop();
    assert.equal(first, second);
    const answer = await client.nextMessage((m) => m.msg === 'result' && m.id === id);
    assert.deepEqual(answer.result, [], 'a waiting getWork is answered with no work at shutdown');
    await Promise.all([first, second]);
    await client.closed;
    await assert.rejects(fetch(`${server.url}/healthz`));
    await server.stop();
  });

  it('closes the store it opened when a later step of the start fails', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cumulus-lifecycle-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => occupied.close(() => resolve())));
    const file = join(dir, 'cumulus.db');
    const port = String((occupied.address() as AddressInfo).port);
    const config = loadConfig({ PORT: port, DATABASE_URL: `sqlite:${file}`, LOG_LEVEL: 'silent' });
    await assert.rejects(startServer(config, { logger: createLogger('silent') }), { code: 'EADDRINUSE' });
    assert.ok(existsSync(file), 'the store was opened before the listen failed');
    // SQLite removes the write-ahead log when the last connection to the file closes.
    assert.equal(existsSync(`${file}-wal`), false, 'the store is closed again');
  });
});
