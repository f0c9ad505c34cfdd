// The README's quick start, run as a user would: the example scripts against a live server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('README quick start', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => server.stop());

  it('saves a job with one script and processes it with the other', async () => {
    const env = { ...process.env, CUMULUS_URL: server.url };
    const saved = await run(process.execPath, ['examples/save-job.mjs', 'greet', 'hello'], { cwd: root, env, timeout: 20_000 });
    const id = /saved greet job (\w+)/.exec(saved.stdout)?.[1];
    assert.ok(id, saved.stdout);
    const processed = await run(process.execPath, ['examples/process-jobs.mjs', 'greet', '1'], { cwd: root, env, timeout: 20_000 });
    assert.match(processed.stdout, new RegExp(`processing greet ${id}: \\{"text":"hello"\\}`));
    assert.equal(processed.stderr, '');
  });

  it('submits a job and awaits its result, while the worker library processes it', async () => {
    const env = { ...process.env, CUMULUS_URL: server.url };
    const tsx = (script: string, ...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, env, timeout: 30_000 });
    const submitted = tsx('examples/submit.ts', 'hello', 'hi');
    const worked = await tsx('examples/worker.ts', 'hello', '1');
    const { stdout } = await submitted;
    const id = /saved hello job (\w+)/.exec(stdout)?.[1];
    assert.ok(id, stdout);
    assert.match(worked.stdout, new RegExp(`processing hello ${id}: \\{"text":"hi"\\}`));
    assert.match(stdout, /result: \{"greeting":"hi, world"\}/);
  });
});
