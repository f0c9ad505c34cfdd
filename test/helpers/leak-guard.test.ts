// The leak guard itself: a test file that leaves a server or a tracked resource open fails,
// naming what it left, and its process ends instead of hanging; a clean file passes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const fixture = fileURLToPath(new URL('./fixtures/leaky-test-file.ts', import.meta.url));
const guard = fileURLToPath(new URL('./leak-guard.ts', import.meta.url));

/** Runs the fixture as `npm test` runs a test file; answers its exit code and output. */
function runFixture(leak: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Without this test's own runner context, the child runs as a test runner of its own.
    const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', guard, '--test', '--test-reporter=tap', fixture], {
      env: { ...env, LEAK: leak },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('leak guard', () => {
  test('fails a test file that leaves a server listening, and ends its process', async () => {
    const { code, output } = await runFixture('server');
    assert.notEqual(code, 0);
    assert.match(output, /left resources open: .*TCPServerWrap/);
  });

  test('fails a test file that leaves a tracked resource open, by its name', async () => {
    const { code, output } = await runFixture('tracked');
    assert.notEqual(code, 0);
    assert.match(output, /left resources open: a deliberately unclosed queue/);
  });

  test('passes a test file that closes everything', async () => {
    const { code, output } = await runFixture('none');
    assert.equal(code, 0, output);
  });
});
