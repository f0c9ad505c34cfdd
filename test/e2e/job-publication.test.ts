// `<root>.job` over a real socket: one job with its log and failures, following every change
// of the job (a log entry alone included), removed with the job; a malformed id refused.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Job from 'meteor-job';
import type { JobDoc } from '../../shared/job-doc.ts';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

function resultOf(message: DdpMessage): unknown {
  assert.equal(message.error, undefined, `unexpected error ${JSON.stringify(message.error)}`);
  return message.result;
}

describe('publication <root>.job', () => {
  let server: TestServer;
  let client: RawDdpClient;

  beforeEach(async () => {
    server = await startTestServer();
    client = await RawDdpClient.connect(server.url, { timeoutMs: 10_000, autoPong: true });
  });

  afterEach(async () => {
    await client.close();
    await server.stop();
  });

  it('publishes one job with its log, follows a log entry alone, and removes it with the job', async () => {
    const id = resultOf(await client.call('queue_jobSave', [new Job('queue', 'watched', { n: 1 }).doc, {}])) as string;
    await client.subscribe('queue.job', [id]);
    const added = await client.nextMessage((message) => message.msg === 'added' && message.collection === 'queue.job');
    assert.equal(added.id, id);
    const fields = added.fields as Partial<JobDoc>;
    assert.deepEqual(fields.log?.map((entry) => entry.message), ['Constructed', 'Job Submitted', 'Promoted to ready']);
    assert.equal('_private' in fields, false);

    const [job] = resultOf(await client.call('queue_getWork', [['watched']])) as JobDoc[];
    assert.equal(job?._id, id);
    // Each call waits for the publication, so the changes have arrived when it answers.
    resultOf(await client.call('queue_jobLog', [id, job.runId, 'a note, nothing else changed', {}]));
    const changed = await client.nextMessage(
      (message) => message.msg === 'changed' && ((message.fields as Partial<JobDoc>).log ?? []).some((entry) => entry.message === 'a note, nothing else changed'),
    );
    assert.equal(changed.id, id);

    resultOf(await client.call('queue_jobFail', [id, job.runId, { reason: 'broken' }, { fatal: true }]));
    await client.nextMessage((message) => message.msg === 'changed' && Array.isArray((message.fields as Partial<JobDoc>).failures));
    resultOf(await client.call('queue_jobRemove', [[id]]));
    const removed = await client.nextMessage((message) => message.msg === 'removed' && message.collection === 'queue.job');
    assert.equal(removed.id, id);
  });

  it('refuses a malformed id', async () => {
    const answer = await client.subscribe('queue.job', [{ not: 'an id' }]);
    assert.equal(answer.msg, 'nosub');
    assert.deepEqual([(answer.error as { error?: unknown }).error, (answer.error as { reason?: unknown }).reason], [400, 'Match failed']);
  });
});
