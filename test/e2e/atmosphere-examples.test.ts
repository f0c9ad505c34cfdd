// Atmosphere's usage models as its users wrote them (examples/atmosphere/), run against a live
// server: simple RPC, a chain with the callback at the end, with the callback in the middle,
// fire-and-forget, and jobs calling jobs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const execute = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('Atmosphere examples', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => server.stop());

  const example = async (name: string, ...args: string[]): Promise<string> => {
    const env = { ...process.env, CUMULUS_URL: server.url };
    const { stdout, stderr } = await execute(process.execPath, ['--import', 'tsx', `examples/atmosphere/${name}.ts`, ...args], { cwd: root, env, timeout: 30_000 });
    assert.equal(stderr, '', `${name} wrote to stderr`);
    return stdout;
  };
  const jobs = async (type: string) =>
    (await server.server.contexts.get('queue')?.store.list({ types: [type] }, { limit: 100, order: 'created-asc' })) ?? [];

  it('RPC: the requester gets the string the work function passed to doneWith', async () => {
    const stdout = await example('rpc');
    assert.match(stdout, /Working on job with data: Hello World!/);
    assert.match(stdout, /RPC completed and returned: This string was generated inside the work function/);
  });

  it("a chain cascades job1's result into job2's data, and calls back at the end", async () => {
    const stdout = await example('chain');
    assert.match(stdout, /first got \{"param1":"initial message"\}/);
    assert.match(stdout, /second got \{"param2":"initial message","first":\{"a":1,"b":2,"c":3\}\}/);
    assert.match(stdout, /RPC completed and returned: \{"merged":\{"param2":"initial message","first":\{"a":1,"b":2,"c":3\}\}\}/);
  });

  it('callback: true calls back after job1, and job2 still runs', async () => {
    const stdout = await example('chain-callback-middle');
    // The callback and job2 both follow job1's completion: in either order.
    const lines = stdout.trim().split('\n').sort();
    assert.deepEqual(lines, [
      'RPC completed and returned: {"msg":"useful"}',
      'remoteFunction got {"msg":"useful"}',
      'remoteFunction got {"param2":"abc","remoteFunction":{"msg":"useful"}}',
    ]);
  });

  it('fire-and-forget: the chain runs to its end with nothing awaited', async () => {
    const stdout = await example('fire-and-forget');
    assert.match(stdout, /submitted; nothing to wait for/);
    assert.match(stdout, /remoteFunction got \{"param2":"abc","remoteFunction":\{"done":"special job"\}\}/);
    await waitFor(async () => (await jobs('remoteFunction')).filter((job) => job.status === 'completed').length >= 2);
  });

  it('jobs calling jobs: factorial recurses on one exclusive cloud', async () => {
    const stdout = await example('recursion', '5');
    assert.match(stdout, /5! = 120/);
    assert.equal(stdout.match(/factorial\(\d\) running/g)?.length, 5);
  });

  it("the promise API's example (README) runs each model", async () => {
    const env = { ...process.env, CUMULUS_URL: server.url };
    const { stdout, stderr } = await execute(process.execPath, ['--import', 'tsx', 'examples/rpc.ts'], { cwd: root, env, timeout: 30_000 });
    assert.equal(stderr, '');
    assert.deepEqual(stdout.trim().split('\n'), [
      '5! = 120',
      'chain: {"param2":"initial message","first":{"a":1,"b":2,"c":3}}',
      'callback in the middle: {"a":1,"b":2,"c":3}',
      '3! = 6',
    ]);
  });
});
