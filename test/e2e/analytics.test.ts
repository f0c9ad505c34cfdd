// Analytics kept by the server: runs committed over DDP are counted per type and minute, shown
// live by `<root>.analytics`, written to the store and still there after a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import Job from 'meteor-job';
import { RawDdpClient, type DdpMessage } from '../helpers/raw-ddp-client.ts';
import { startTestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** The documents a client holds for a collection, from the messages it received. */
function documents(client: RawDdpClient, collection: string): Map<string, Record<string, unknown>> {
  const docs = new Map<string, Record<string, unknown>>();
  for (const message of client.received as DdpMessage[]) {
    if (message.collection !== collection) continue;
    const id = String(message.id);
    if (message.msg === 'added') docs.set(id, { ...(message.fields as object) });
    else if (message.msg === 'changed') docs.set(id, { ...docs.get(id), ...(message.fields as object) });
    else if (message.msg === 'removed') docs.delete(id);
  }
  return docs;
}

it('counts completed, failed and retried runs with their run times, live and across a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-analytics-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { DATABASE_URL: `sqlite:${join(dir, 'cumulus.db')}`, CUMULUS_ANALYTICS_FLUSH_MS: '100' };
  const server = await startTestServer(env);
  const client = await RawDdpClient.connect(server.url, { autoPong: true });
  try {
    assert.equal((await client.subscribe('queue.analytics', [{ resolution: 'minute' }])).msg, 'ready');
    const refused = await client.subscribe('queue.analytics', [{ resolution: 'week' }]);
    assert.equal(refused.msg, 'nosub');
    assert.equal((refused.error as { error: number }).error, 400);

    const runs: { _id: string; runId: string }[] = [];
    for (const retries of [0, 0, 1, 0]) {
      const job = new Job('queue', 'report', {});
      job.retry({ retries, wait: 0 });
      await client.call('queue_jobSave', [job.doc, {}]);
      const [claimed] = (await client.call('queue_getWork', ['report'])).result as { _id: string; runId: string }[];
      assert.ok(claimed);
      runs.push(claimed);
    }
    const [first, second, retried, failed] = runs as [typeof runs[0], typeof runs[0], typeof runs[0], typeof runs[0]];
    await client.call('queue_jobDone', [first._id, first.runId, {}, {}]);
    await client.call('queue_jobDone', [second._id, second.runId, {}, {}]);
    await client.call('queue_jobFail', [retried._id, retried.runId, { reason: 'flaky' }, {}]);
    await client.call('queue_jobFail', [failed._id, failed.runId, { reason: 'broken' }, {}]);

    const counted = (docs: Map<string, Record<string, unknown>>) => {
      const periods = [...docs.values()].filter((doc) => doc.type === 'report');
      return {
        completed: periods.reduce((sum, doc) => sum + Number(doc.completed), 0),
        failed: periods.reduce((sum, doc) => sum + Number(doc.failed), 0),
        retried: periods.reduce((sum, doc) => sum + Number(doc.retried), 0),
        timed: periods.reduce((sum, doc) => sum + (doc.runTimes as number[]).reduce((a, b) => a + b, 0), 0),
      };
    };
    const expected = { completed: 2, failed: 1, retried: 1, timed: 4 };
    await waitFor(() => JSON.stringify(counted(documents(client, 'queue.analytics'))) === JSON.stringify(expected), {
      timeoutMs: 10_000,
      description: 'the runs counted in the publication',
    });
  } finally {
    await client.close();
    await server.stop();
  }

  // Written to the store: a new server on the same file publishes them at once.
  const again = await startTestServer(env);
  const reader = await RawDdpClient.connect(again.url, { autoPong: true });
  try {
    assert.equal((await reader.subscribe('queue.analytics', [{ resolution: 'hour', periods: 2 }])).msg, 'ready');
    const [period] = [...documents(reader, 'queue.analytics').values()];
    assert.equal(period?.type, 'report');
    assert.equal(period?.resolution, 'hour');
    assert.deepEqual([period?.completed, period?.failed, period?.retried], [2, 1, 1]);
  } finally {
    await reader.close();
    await again.stop();
  }
});
