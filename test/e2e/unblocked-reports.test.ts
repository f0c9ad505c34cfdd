// A worker's reports run unblocked once queued (docs/PROTOCOL.md §1.5): pipelined on one
// connection, they still apply in the order they were sent, per job.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Job from 'meteor-job';
import { RawDdpClient } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

interface Claimed {
  _id: string;
  runId: string;
}

describe('reports sent without waiting for answers', () => {
  let server: TestServer;
  let raw: RawDdpClient;

  before(async () => {
    server = await startTestServer();
    raw = await RawDdpClient.connect(server.url, { autoPong: true });
  });
  after(async () => {
    await raw.close();
    await server.stop();
  });

  async function claimed(type: string, count: number): Promise<Claimed[]> {
    await Promise.all(Array.from({ length: count }, () => raw.call('queue_jobSave', [new Job('queue', type, {}).doc])));
    const answer = await raw.call('queue_getWork', [type, { maxJobs: count }]);
    const jobs = answer.result as Claimed[];
    assert.equal(jobs.length, count);
    return jobs;
  }

  it('apply in the order sent: a log before a done is written before it, a log after it after', async () => {
    const jobs = await claimed('pipelined', 20);
    const answers = await Promise.all(
      jobs.flatMap((job) => [
        raw.call('queue_jobLog', [job._id, job.runId, 'before done', {}]),
        raw.call('queue_jobProgress', [job._id, job.runId, 1, 2, {}]),
        raw.call('queue_jobDone', [job._id, job.runId, { ok: true }, {}]),
        raw.call('queue_jobLog', [job._id, job.runId, 'after done', {}]),
        // The run is over: a second done and a late progress are refused, as in sequence.
        raw.call('queue_jobDone', [job._id, job.runId, {}, {}]),
        raw.call('queue_jobProgress', [job._id, job.runId, 2, 2, {}]),
      ]),
    );
    assert.deepEqual(
      answers.map((a) => a.result),
      jobs.flatMap(() => [true, true, true, true, false, false]),
    );
    for (const job of jobs) {
      const doc = (await raw.call('queue_getJob', [job._id, { getLog: true }])).result as { status: string; result: unknown; log: Array<{ message: string }> };
      assert.equal(doc.status, 'completed');
      assert.deepEqual(doc.result, { ok: true });
      const messages = doc.log.map((entry) => entry.message);
      const order = ['before done', 'Job Completed', 'after done'].map((m) => messages.findIndex((message) => message.startsWith(m)));
      assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > (order[i - 1] as number))), `log in call order: ${JSON.stringify(messages)}`);
    }
  });

  it('a fail then a done of the same run: the fail wins, the done finds no run', async () => {
    const [job] = await claimed('fail-first', 1);
    if (job === undefined) throw new Error('no job');
    const [fail, done] = await Promise.all([
      raw.call('queue_jobFail', [job._id, job.runId, { reason: 'boom' }, { fatal: true }]),
      raw.call('queue_jobDone', [job._id, job.runId, {}, {}]),
    ]);
    assert.equal(fail.result, true);
    assert.equal(done.result, false);
    assert.equal(((await raw.call('queue_getJob', [job._id])).result as { status: string }).status, 'failed');
  });
});
