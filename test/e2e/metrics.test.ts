// /metrics, /healthz and /readyz on a real server: Prometheus text whose series are all
// `cumulus_…`, and that follow what happens to jobs and methods.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Job from 'meteor-job';
import { RawDdpClient } from '../helpers/raw-ddp-client.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';

/** The value of one series (name and exact label set as printed), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics and health over HTTP', () => {
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

  async function claim(type: string, retries = 0): Promise<{ _id: string; runId: string }> {
    const job = new Job('queue', type, {});
    job.retry({ retries, wait: 0 });
    await raw.call('queue_jobSave', [job.doc]);
    const answer = await raw.call('queue_getWork', [type]);
    const [claimed] = answer.result as { _id: string; runId: string }[];
    assert.ok(claimed);
    return claimed;
  }

  it('counts jobs by status, outcomes, method calls and commits, under cumulus_ names only', async () => {
    const done = await claim('m');
    await raw.call('queue_jobDone', [done._id, done.runId, {}, {}]);
    const retried = await claim('m', 1);
    await raw.call('queue_jobFail', [retried._id, retried.runId, { reason: 'again' }, {}]);
    const failed = await claim('m');
    await raw.call('queue_jobFail', [failed._id, failed.runId, { reason: 'for good' }, {}]);
    await raw.call('queue_jobSave', [new Job('queue', 'm', {}).doc]);

    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();

    const labels = 'collection="queue",type="m"';
    assert.equal(sample(text, `cumulus_jobs{${labels},status="completed"}`), 1);
    assert.equal(sample(text, `cumulus_jobs{${labels},status="failed"}`), 1);
    // The retried job waits (retry wait 0: it may already be ready again) and the new one is ready.
    const waitingOrReady = (sample(text, `cumulus_jobs{${labels},status="waiting"}`) ?? 0) + (sample(text, `cumulus_jobs{${labels},status="ready"}`) ?? 0);
    assert.equal(waitingOrReady, 2);
    assert.equal(sample(text, `cumulus_jobs_completed_total{${labels}}`), 1);
    assert.equal(sample(text, `cumulus_jobs_failed_total{${labels}}`), 1);
    assert.equal(sample(text, `cumulus_jobs_retried_total{${labels}}`), 1);
    assert.equal(sample(text, `cumulus_job_run_seconds_count{${labels},outcome="completed"}`), 1);
    assert.equal(sample(text, `cumulus_job_run_seconds_count{${labels},outcome="failed"}`), 2);
    assert.equal(sample(text, `cumulus_job_wait_seconds_count{${labels}}`), 3);
    assert.equal(sample(text, 'cumulus_workers{collection="queue"}'), 1);
    assert.equal(sample(text, 'cumulus_ddp_method_calls_total{method="queue_jobDone",outcome="ok"}'), 1);
    assert.equal(sample(text, 'cumulus_ddp_method_calls_total{method="queue_jobFail",outcome="ok"}'), 2);
    assert.ok((sample(text, 'cumulus_ddp_method_seconds_count{method="queue_getWork"}') ?? 0) >= 3);
    assert.ok((sample(text, 'cumulus_store_commit_seconds_count') ?? 0) >= 1);
    assert.ok((sample(text, 'cumulus_store_batch_transactions_sum') ?? 0) >= 7);
    assert.ok((sample(text, 'cumulus_ddp_sessions') ?? 0) >= 1);
    assert.ok(sample(text, 'cumulus_nodejs_eventloop_lag_seconds') !== undefined, 'event-loop lag is reported');

    const names = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => line.split(/[{ ]/)[0]);
    assert.deepEqual(names.filter((name) => !name?.startsWith('cumulus_')), []);
  });

  it('counts a refused call as an error', async () => {
    const answer = await raw.call('queue_jobDone', ['not-a-valid-call']);
    assert.equal((answer.error as { error?: unknown } | undefined)?.error, 400);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.equal(sample(text, 'cumulus_ddp_method_calls_total{method="queue_jobDone",outcome="error"}'), 1);
  });

  it('is ready once started, and healthy when its store answers', async () => {
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
  });
});

describe('health when the store fails', () => {
  it('answers 503 with the reason when the store does not answer a query', async () => {
    const server = await startTestServer();
    try {
      const context = server.server.contexts.get('queue');
      assert.ok(context);
      await context.store.close();
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 503);
      const body = (await health.json()) as { status: string; reason: string };
      assert.equal(body.status, 'unavailable');
      assert.match(body.reason, /^the store does not answer: /);
    } finally {
      await server.stop();
    }
  });
});
