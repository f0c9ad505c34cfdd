// The server as `npm start` runs it: a child process configured by environment variables,
// which prints where it listens, refuses bad configuration clearly, and stops cleanly.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Job from 'meteor-job';
import { connectMeteorJob, viaCallback } from '../helpers/meteor-job-client.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runServer(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** The URL the server prints once it listens, looked for on each chunk of output; rejects if it exits first. */
function listeningUrl(started: Started): Promise<string> {
  const found = () => /Cumulus listening on (http:\/\/[^\s]+) /.exec(started.output())?.[1];
  return new Promise((resolve, reject) => {
    const check = () => {
      const url = found();
      if (url === undefined) return;
      started.child.stdout?.off('data', check);
      resolve(url);
    };
    started.child.stdout?.on('data', check);
    started.child.once('exit', () => reject(new Error(`server did not start:\n${started.output()}`)));
    check();
  });
}

describe('the server process', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cumulus-process-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('still stops on SIGTERM when nothing reads its output any more', async () => {
    const started = runServer({ DATABASE_URL: `sqlite:${join(dir, 'unread.db')}` });
    await listeningUrl(started);
    // Whoever read the logs is gone (a closed pipe): the shutdown's log lines fail with EPIPE.
    started.child.stdout?.destroy();
    started.child.kill('SIGTERM');
    assert.equal(await started.exited, 0);
  });

  it('starts on an SQLite file, answers health checks, and exits 0 on SIGTERM', async () => {
    const started = runServer({ DATABASE_URL: `sqlite:${join(dir, 'nested', 'jobs.db')}` });
    const url = await listeningUrl(started);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const info = await (await fetch(`${url}/sockjs/info`)).json() as { websocket: boolean };
    assert.equal(info.websocket, true);
    assert.equal((await fetch(`${url}/nowhere`)).status, 404);
    started.child.kill('SIGTERM');
    assert.equal(await started.exited, 0);
    assert.match(started.output(), /"msg":"stopped"/);
  });

  it('refuses a second server on the same SQLite file, and lets one start once the first is killed', async () => {
    const databaseUrl = `sqlite:${join(dir, 'shared.db')}`;
    const first = runServer({ DATABASE_URL: databaseUrl });
    const url = await listeningUrl(first);

    const second = runServer({ DATABASE_URL: databaseUrl });
    assert.notEqual(await second.exited, 0);
    assert.match(second.output(), /another Cumulus server is using it \(it holds .*shared\.db\.lock\)/);
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'the first server goes on');

    // The lock dies with its process, however it ends: no stale lock after a crash.
    first.child.kill('SIGKILL');
    await first.exited;
    const third = runServer({ DATABASE_URL: databaseUrl });
    await listeningUrl(third);
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
  });

  it('keeps every acknowledged job when killed without warning', async () => {
    const databaseUrl = `sqlite:${join(dir, 'crash.db')}`;
    const first = runServer({ DATABASE_URL: databaseUrl });
    const port = Number(new URL(await listeningUrl(first)).port);
    const client = await connectMeteorJob(port);
    const saves = Array.from({ length: 50 }, (_, i) => viaCallback<string>((cb) => new Job('queue', 'durable', { i }).save(cb as never)));
    const ids = await Promise.all(saves);
    client.close();
    first.child.kill('SIGKILL');
    await first.exited;

    const second = runServer({ DATABASE_URL: databaseUrl });
    try {
      const again = await connectMeteorJob(Number(new URL(await listeningUrl(second)).port));
      const docs = (await again.call('queue_getJob', ids, {})) as { _id: string; status: string }[];
      again.close();
      assert.equal(docs.length, ids.length);
      assert.deepEqual(new Set(docs.map((d) => d.status)), new Set(['ready']));
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('refuses an unknown database scheme with a clear message', async () => {
    const started = runServer({ DATABASE_URL: 'postgres://localhost/jobs' });
    assert.equal(await started.exited, 1);
    assert.match(started.output(), /cumulus: DATABASE_URL has the scheme "postgres:"/);
    assert.match(started.output(), /sqlite:/);
  });

  it('refuses a database file it cannot open', async () => {
    const notADatabase = join(dir, 'garbage.db');
    writeFileSync(notADatabase, 'this is not a database, just text long enough to be read as a header');
    const started = runServer({ DATABASE_URL: `sqlite:${notADatabase}` });
    assert.equal(await started.exited, 1);
    assert.match(started.output(), /cumulus: .*garbage\.db/);
  });

  it('refuses a directory as the database file', async () => {
    const directory = join(dir, 'a-directory');
    mkdirSync(directory);
    const started = runServer({ DATABASE_URL: `sqlite:${directory}` });
    assert.equal(await started.exited, 1);
    assert.match(started.output(), /cumulus: .*a-directory/);
  });

  it('refuses to listen beyond loopback without tokens', async () => {
    const started = runServer({ HOST: '0.0.0.0', DATABASE_URL: 'sqlite::memory:' });
    assert.equal(await started.exited, 1);
    assert.match(started.output(), /Refusing to listen on 0\.0\.0\.0 without authentication/);
  });

  it('refuses a malformed option', async () => {
    const started = runServer({ PORT: 'eighty', DATABASE_URL: 'sqlite::memory:' });
    assert.equal(await started.exited, 1);
    assert.match(started.output(), /cumulus: PORT=eighty is not valid/);
  });
});
