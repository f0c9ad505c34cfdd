// A queue shut down while its getWork waits on the server: a job saved afterwards is claimed
// for that call, and the queue gives it back at once (releaseRuns) instead of failing it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, Job, type CumulusConnection } from '../../worker/index.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { testConnectOptions } from './helpers/worker-env.ts';

describe('JobQueue shutdown with a waiting getWork', () => {
  let server: TestServer;
  let connection: CumulusConnection;

  before(async () => {
    server = await startTestServer();
    connection = await connect(server.wsUrl, { ...testConnectOptions, setAsDefault: false });
  });

  after(async () => {
    await connection.close();
    await server.stop();
  });

  it('gives back a job claimed for it after the shutdown, unstarted and with its attempt', async () => {
    const at = { root: 'queue', connection };
    const context = server.server.contexts.get('queue');
    assert.ok(context);
    let handled = 0;
    const queue = Job.processJobs(at, 'late', { pollInterval: false }, async () => {
      handled += 1;
    });
    await waitFor(() => context.dispatcher.size === 1, { description: 'the queue’s getWork waiting on the server' });
    await queue.shutdown({ level: 'soft' });
    // The waiting call is still on the server: it claims the next job of its type.
    const saved = new Job(at, 'late', {}).retry({ retries: 1 });
    const id = await saved.save();
    assert.ok(id);
    await waitFor(async () => (await Job.getJob(at, id, { getLog: true }))?.doc.log?.some((entry) => entry.message.startsWith('Released')) === true, {
      description: 'the job given back',
    });
    const job = await Job.getJob(at, id, { getLog: true });
    assert.equal(handled, 0, 'never started');
    assert.equal(job?.doc.status, 'ready');
    assert.equal(job?.doc.retries, saved.doc.retries, 'the attempt was given back');
    assert.ok(!job?.doc.log?.some((entry) => /Failed/.test(entry.message)), 'never failed');
  });
});
