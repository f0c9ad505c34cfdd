// A Meteor app's existing job collection served as it is: documents written by jobCollection
// (test/e2e/fixtures/meteor-job-documents.ts) are claimed and completed through Cumulus by the
// original meteor-job client, their fields and log kept, and a document that is not a job is
// skipped without stopping the claims behind it.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { connectMeteorJob, Job, viaCallback, type MeteorJobClient } from '../helpers/meteor-job-client.ts';
import { sharedMongo, type SharedMongo } from '../helpers/shared-mongo.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { meteorBrokenJob, meteorReadyJob } from './fixtures/meteor-job-documents.ts';

describe("a Meteor app's job collection", () => {
  let mongo: SharedMongo | undefined;
  let server: TestServer | undefined;
  let client: MeteorJobClient | undefined;

  afterEach(async () => {
    client?.close();
    await server?.stop();
    await mongo?.close();
  });

  it('is served as it is: meteor-job claims and completes a job jobCollection wrote', async () => {
    mongo = sharedMongo();
    await mongo.insertRaw('queue.jobs', [meteorBrokenJob, meteorReadyJob]);
    // The index jobCollection's server makes (`_ensureIndex {type: 1, status: 1}`), under its own name.
    await mongo.createIndexRaw('queue.jobs', { type: 1, status: 1 });
    server = await startTestServer({}, { openStores: mongo.opener() });
    client = await connectMeteorJob(server.port);

    // With maxJobs, meteor-job answers a list.
    const jobs = (await viaCallback<Job | Job[]>((cb) => Job.getWork('queue', 'sendEmail', { maxJobs: 5 }, cb))) as Job[];
    assert.equal(jobs.length, 1, 'the broken document is skipped');
    const [job] = jobs;
    assert.ok(job !== undefined);
    assert.equal(job.doc._id, meteorReadyJob._id);
    assert.deepEqual(job.doc.data, meteorReadyJob.data);
    assert.equal(job.doc.retries, 4, 'the attempt counted');
    await viaCallback((cb) => job.progress(1, 2, cb));
    await viaCallback((cb) => job.log('sending', { level: 'info' }, cb));
    await viaCallback((cb) => job.done({ sent: true }, cb));

    const stored = await mongo.findRaw('queue.jobs', meteorReadyJob._id as string);
    assert.ok(stored !== null);
    assert.equal(stored.status, 'completed');
    assert.deepEqual(stored.result, { sent: true });
    assert.equal(stored.runId, job.doc.runId);
    assert.equal('_private' in stored, false, 'the claim is cleared at completion');
    assert.ok(stored.updated instanceof Date && stored.updated > meteorReadyJob.updated);
    // jobCollection's own fields, as they were.
    for (const field of ['type', 'data', 'created', 'priority', 'retryWait', 'retryBackoff', 'retryUntil', 'repeatUntil'] as const) {
      assert.deepEqual(stored[field], meteorReadyJob[field], field);
    }
    const messages = (stored.log as { message: string }[]).map((entry) => entry.message);
    assert.deepEqual(messages.slice(0, 3), ['Constructed', 'Job Submitted', 'Promoted to ready']);
    assert.deepEqual(messages.slice(3), ['Job Running', 'sending', 'Job Completed']);
    assert.deepEqual(await mongo.findRaw('queue.jobs', meteorBrokenJob._id as string), meteorBrokenJob, 'the broken document is left alone');
  });
});
