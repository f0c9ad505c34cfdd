// `<root>.job` over a real socket: one job with its failures and its log (one `<root>.jobLog`
// document per entry, each sent once), following every change of the job (a log entry alone
// included), removed with the job; a malformed id refused.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Job from 'meteor-job';
import type { JobDoc } from '../../shared/job-doc.ts';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

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

  it('publishes one job and its log entries, sends each new entry once, and removes them with the job', async () => {
    const id = resultOf(await client.call('queue_jobSave', [new Job('queue', 'watched', { n: 1 }).doc, {}])) as string;
    await client.subscribe('queue.job', [id]);
    const added = client.received.find((message) => message.msg === 'added' && message.collection === 'queue.job');
    assert.equal(added?.id, id);
    const fields = added?.fields as Partial<JobDoc>;
    assert.equal('log' in fields, false, 'the log travels apart');
    assert.equal('_private' in fields, false);
    const entries = () => client.received.filter((message) => message.msg === 'added' && message.collection === 'queue.jobLog');
    assert.deepEqual(
      entries().map((message) => [message.id, (message.fields as { job: string; index: number; message: string }).message]),
      [[`${id}:0`, 'Constructed'], [`${id}:1`, 'Job Submitted'], [`${id}:2`, 'Promoted to ready']],
    );

    const [job] = resultOf(await client.call('queue_getWork', [['watched']])) as JobDoc[];
    assert.equal(job?._id, id);
    resultOf(await client.call('queue_jobLog', [id, job.runId, 'a note, nothing else changed', { level: 'warning' }]));
    await waitFor(() => entries().length === 5, { timeoutMs: 10_000, description: 'the note sent' });
    const note = entries().at(-1)?.fields as { job: string; index: number; level: string; message: string; runId: string };
    assert.deepEqual([note.job, note.index, note.level, note.message, note.runId], [id, 4, 'warning', 'a note, nothing else changed', job.runId]);
    assert.equal(entries().length, 5, 'Running, then the note: each entry sent once');
    assert.equal(new Set(entries().map((message) => message.id)).size, 5);
    assert.ok(!client.received.some((message) => message.msg === 'changed' && message.collection === 'queue.jobLog'), 'entries never change');

    resultOf(await client.call('queue_jobFail', [id, job.runId, { reason: 'broken' }, { fatal: true }]));
    await client.nextMessage((message) => message.msg === 'changed' && Array.isArray((message.fields as Partial<JobDoc>).failures));
    resultOf(await client.call('queue_jobRemove', [[id]]));
    const removed = () => client.received.filter((message) => message.msg === 'removed');
    // The removals may follow the method's result (they come before its `updated`).
    await waitFor(() => removed().some((message) => message.collection === 'queue.job'), { timeoutMs: 10_000, description: 'the job removed' });
    await waitFor(() => removed().length === 1 + entries().length, { timeoutMs: 10_000, description: 'its entries removed' });
    assert.deepEqual(removed().filter((message) => message.collection === 'queue.job').map((message) => message.id), [id]);
    assert.equal(removed().filter((message) => message.collection === 'queue.jobLog').length, entries().length, 'every entry removed with the job');
  });

  it('refuses a malformed id', async () => {
    const answer = await client.subscribe('queue.job', [{ not: 'an id' }]);
    assert.equal(answer.msg, 'nosub');
    assert.deepEqual([(answer.error as { error?: unknown }).error, (answer.error as { reason?: unknown }).reason], [400, 'Match failed']);
  });
});
