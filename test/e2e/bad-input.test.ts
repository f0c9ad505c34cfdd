// Hostile and malformed input against the whole server: each gets a clear answer, the
// connection or the server survives, and nothing is half written.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Job from 'meteor-job';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

describe('bad input against the server', () => {
  let server: TestServer;
  let client: RawDdpClient;

  beforeEach(async () => {
    server = await startTestServer({ CUMULUS_MAX_MESSAGE_BYTES: String(64 * 1024) });
    client = await RawDdpClient.connect(server.url, { autoPong: true });
  });
  afterEach(async () => {
    await client.close();
    await server.stop();
  });

  const jobCount = async () => {
    const probe = await RawDdpClient.connect(server.url, { autoPong: true });
    try {
      const ready = await probe.subscribe('queue.stats');
      assert.equal(ready.msg, 'ready');
      return probe.received
        .filter((m) => m.msg === 'added' && m.collection === 'queue.stats')
        .reduce((sum, m) => sum + ((m.fields as { total: number }).total ?? 0), 0);
    } finally {
      await probe.close();
    }
  };
  const reasonOf = (m: DdpMessage) => (m.error as { reason?: string; error?: number } | undefined);

  it('answers frames that are not DDP with error frames and keeps the connection', async () => {
    client.sendRaw('{not json');
    assert.equal((await client.nextMessage((m) => m.msg === 'error')).reason, 'Bad request');
    client.send({ msg: 'teleport' });
    assert.equal((await client.nextMessage((m) => m.msg === 'error')).reason, 'Bad request');
    client.sendRaw('{"msg":"method","id":"1","method":"queue_getJob","params":[{"$type":"unknown","$value":1}]}');
    assert.equal((await client.nextMessage((m) => m.msg === 'error')).reason, 'Parse error');
    client.send({ msg: 'method', id: 7, method: 'queue_getJob' });
    assert.equal((await client.nextMessage((m) => m.msg === 'error')).reason, 'Malformed method invocation');
    const still = await client.call('queue_getJob', ['nothing']);
    assert.equal(still.result, null, 'the connection still works');
  });

  it('closes a connection that sends an oversized frame, saves nothing, and serves others', async () => {
    const doc = new Job('queue', 'huge', { blob: 'x'.repeat(100 * 1024) }).doc;
    client.send({ msg: 'method', id: 'big', method: 'queue_jobSave', params: [doc] });
    const closed = await client.closed;
    assert.equal(closed.code, 1009);
    assert.equal(await jobCount(), 0);
    const other = await RawDdpClient.connect(server.url, { autoPong: true });
    try {
      const saved = await other.call('queue_jobSave', [new Job('queue', 'small', { n: 1 }).doc]);
      assert.equal(typeof saved.result, 'string');
    } finally {
      await other.close();
    }
  });

  it('refuses malformed job-method calls with 400 and writes nothing', async () => {
    const doc = new Job('queue', 'v', {}).doc;
    const calls: [string, unknown[]][] = [
      ['queue_jobSave', []],
      ['queue_jobSave', [{ ...doc, status: 'completed' }]],
      ['queue_jobSave', [{ ...doc, priority: 1.5 }]],
      ['queue_jobSave', [{ ...doc, retries: -1 }]],
      ['queue_jobSave', [{ ...doc, data: 'not an object' }]],
      ['queue_jobSave', [{ ...doc, repeatWait: 'soon' }]],
      ['queue_jobSave', [doc, { cancelRepeats: 'yes' }]],
      ['queue_getWork', [42]],
      ['queue_getWork', ['v', { maxJobs: -1 }]],
      ['queue_jobProgress', ['id', 'run', 5, 0]],
      ['queue_jobLog', ['id', 'run', 'message', { level: 'fatal' }]],
      ['queue_jobDone', ['id', 'run', 'not an object']],
      ['queue_jobFail', ['id', 'run', {}, { fatal: 'very' }]],
      ['queue_jobCancel', [[1, 2, 3]]],
      ['queue_jobRerun', ['id', { repeats: 1 }]],
      ['queue_shutdownJobServer', [{ timeout: 0 }]],
    ];
    for (const [method, params] of calls) {
      const answer = await client.call(method, params);
      assert.equal(reasonOf(answer)?.error, 400, `${method} ${JSON.stringify(params).slice(0, 80)} → ${JSON.stringify(answer)}`);
      assert.equal(reasonOf(answer)?.reason, 'Match failed');
      assert.equal('result' in answer, false);
    }
    assert.equal(await jobCount(), 0);
    // The server is still running normally.
    assert.equal((await client.call('queue_getWork', ['v'])).error, undefined);
  });
});
