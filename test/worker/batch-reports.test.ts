// A queue with payload > 1 reports a batch's jobs in one jobDoneMany call (which also claims
// the next batch), instead of one jobDone per job; jobs the handler reported itself are left out.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, Job, type CumulusConnection } from '../../worker/index.ts';
import { startTestServer, type TestServer } from '../helpers/start-server.ts';
import { testConnectOptions } from './helpers/worker-env.ts';

describe('JobQueue batch reports', () => {
  let server: TestServer;
  let connection: CumulusConnection;
  const methods: string[] = [];

  before(async () => {
    server = await startTestServer();
    connection = await connect(server.wsUrl, { ...testConnectOptions, setAsDefault: false });
    // Watch what the queue sends, on a real connection to a real server.
    const apply = connection.apply.bind(connection);
    connection.apply = ((method: string, params: unknown[]) => {
      methods.push(method);
      return apply(method, params);
    }) as typeof connection.apply;
  });

  after(async () => {
    await connection.close();
    await server.stop();
  });

  it('completes a payload of jobs with one call, with the handler result for each', async () => {
    const at = { root: 'queue', connection };
    const ids = await Job.saveMany(at, Array.from({ length: 6 }, (_, n) => new Job(at, 'batch', { n })));
    methods.splice(0);
    let batches = 0;
    let allDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (allDone = resolve));
    let completed = 0;
    const queue = Job.processJobs(at, 'batch', { payload: 3, prefetch: 0, pollInterval: false }, async (jobs) => {
      batches += 1;
      // The handler may report some itself; the queue reports only the rest.
      if (batches === 1) await jobs[0]?.done({ own: true });
      return { size: jobs.length };
    });
    queue.on('completed', () => {
      completed += 1;
      if (completed === 6) allDone();
    });
    await done;
    await queue.shutdown({ level: 'soft' });

    assert.equal(batches, 2);
    const reports = methods.filter((method) => /_job(Done|DoneMany)$/.test(method));
    assert.deepEqual(reports, ['queue_jobDone', 'queue_jobDoneMany', 'queue_jobDoneMany']);
    const results = (await Job.getJobs(at, ids as string[])).map((job) => [job.doc.status, job.doc.result]);
    assert.deepEqual(results.filter(([, result]) => (result as { own?: boolean }).own === true).length, 1);
    assert.ok(results.every(([status]) => status === 'completed'));
    assert.equal(results.filter(([, result]) => (result as { size?: number }).size === 3).length, 5);
  });
});
