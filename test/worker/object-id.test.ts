// Job data carrying a Mongo ObjectID (which meteor-job producers can send) must reach a worker
// process: simpleddp would silently drop a frame it cannot decode and hang the call.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Job from 'meteor-job';
import { ObjectId } from '../../shared/object-id.ts';
import { RawDdpClient } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('ObjectIDs in job data', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('reach a worker in its own process intact', async () => {
    const producer = await RawDdpClient.connect(server.url, { autoPong: true });
    try {
      const doc = new Job('queue', 'oid', { ref: new ObjectId('0123456789abcdef01234567') }).doc;
      assert.equal(typeof (await producer.call('queue_jobSave', [doc])).result, 'string');
    } finally {
      await producer.close();
    }
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/worker/fixtures/take-one-job.ts', server.url, 'oid'], {
      cwd: root,
      timeout: 20_000,
    });
    assert.equal(stdout.trim(), '{"ref":{"$type":"oid","$value":"0123456789abcdef01234567"}}');
  });
});
