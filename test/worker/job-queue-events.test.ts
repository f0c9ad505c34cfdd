// JobQueue's events and waits against a real server: active, completed, failed, error, idle,
// paused and resumed; onEmpty and onSizeLessThan beside onIdle. The tests wait on the events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Job } from '../../worker/index.ts';
import { Gate } from './helpers/gate.ts';
import { watchProcess } from './helpers/process-watch.ts';
import { nextEvent, nextEvents } from './helpers/queue-events.ts';
import { queueSuite } from './helpers/worker-env.ts';

describe('JobQueue events', () => {
  const { track, options, errors } = queueSuite();
  const saveJobs = (type: string, count: number) =>
    Job.saveMany('queue', Array.from({ length: count }, (_, i) => new Job('queue', type, { i }))) as Promise<string[]>;

  it('tells active with the jobs of each call, completed with each result, then idle', async () => {
    const ids = await saveJobs('ev-done', 3);
    const queue = track(Job.processJobs('queue', 'ev-done', options({ payload: 2 }), async (jobs) => ({ size: jobs.length })));
    const active = nextEvents(queue, 'active', 2);
    const completed = nextEvents(queue, 'completed', 3);
    const idle = nextEvent(queue, 'idle');
    const calls = await active;
    assert.deepEqual(calls.map(([jobs]) => jobs.length), [2, 1]);
    assert.deepEqual(calls.flatMap(([jobs]) => jobs.map((job) => job.id)).sort(), [...ids].sort());
    const results = await completed;
    assert.deepEqual(results.map(([job]) => job.id).sort(), [...ids].sort());
    for (const [job, result] of results) assert.deepEqual(result, { size: calls.find(([jobs]) => jobs.includes(job))?.[0].length });
    await idle;
    assert.equal(queue.idle(), true);
    assert.deepEqual(errors, []);
  });

  it('tells completed and failed for what a meteor-job style worker reported itself', async () => {
    const queue = track(Job.processJobs('queue', 'ev-self', options(), (job, cb) => {
      const report = job.data.i === 0 ? job.done('by hand') : job.fail('not today', { fatal: true });
      void report.then(() => cb());
    }));
    const completed = nextEvent(queue, 'completed');
    const failed = nextEvent(queue, 'failed');
    const [first, second] = await saveJobs('ev-self', 2);
    const [doneJob, result] = await completed;
    assert.equal(doneJob.id, first);
    assert.equal(result, 'by hand');
    const [failedJob, error] = await failed;
    assert.equal(failedJob.id, second);
    assert.equal(error, 'not today');
    assert.equal((await Job.getJob('queue', second as string))?.doc.status, 'failed');
  });

  it('tells failed with the error a worker threw, and not completed for a done the server refused', async () => {
    const queue = track(Job.processJobs('queue', 'ev-throw', options(), async () => {
      throw new RangeError('out of range');
    }));
    const failed = nextEvent(queue, 'failed');
    const [id] = await saveJobs('ev-throw', 1);
    const [job, error] = await failed;
    assert.equal(job.id, id);
    assert.ok(error instanceof RangeError);
    // The run is over: a late done is refused, and no listener hears of it.
    let completions = 0;
    queue.on('completed', () => (completions += 1));
    assert.equal(await job.done(), false);
    assert.equal(completions, 0);
  });

  it('tells error listeners what errorCallback gets; without errorCallback they replace the warning', async () => {
    const watch = watchProcess();
    try {
      const queue = track(Job.processJobs('queue', 'ev-error', { pollInterval: false }, (job, cb) => {
        void job.done().then(() => {
          cb();
          cb();
        });
      }));
      const errored = nextEvent(queue, 'error');
      await saveJobs('ev-error', 1);
      const [error] = await errored;
      assert.match(error.message, /called multiple times/);
      await queue.onIdle();
      // A warning goes out on the next tick: let it, had there been one.
      await new Promise((resolve) => setImmediate(resolve));
      const warned = watch.warnings.filter((warning) => /called multiple times/.test(warning.message));
      assert.deepEqual(warned, [], 'an error listener, and no errorCallback: no process warning');
    } finally {
      watch.stop();
    }
  });

  it('reports a listener that throws, and goes on with the other listeners and the jobs', async () => {
    const queue = track(Job.processJobs('queue', 'ev-listener', options(), async () => ({})));
    queue.on('completed', () => {
      throw new Error('listener broke');
    });
    const completed = nextEvents(queue, 'completed', 2);
    const emitted = nextEvents(queue, 'error', 2);
    await saveJobs('ev-listener', 2);
    assert.equal((await completed).length, 2);
    assert.deepEqual((await emitted).map(([error]) => error.message), ['listener broke', 'listener broke']);
    await queue.onIdle();
    assert.deepEqual(errors.map((error) => error.message), ['listener broke', 'listener broke']);
  });

  it('tells paused and resumed, and paused again at shutdown; once listeners hear one event', async () => {
    const queue = track(Job.processJobs('queue', 'ev-pause', options(), async () => ({})));
    const heard: string[] = [];
    queue.on('paused', () => heard.push('paused')).on('resumed', () => heard.push('resumed'));
    let onceCalls = 0;
    queue.once('paused', () => (onceCalls += 1));
    queue.pause();
    queue.pause();
    queue.resume();
    await queue.shutdown({ level: 'soft' });
    queue.resume();
    assert.deepEqual(heard, ['paused', 'resumed', 'paused'], 'a repeated pause, or a resume after shutdown, tells nothing');
    assert.equal(onceCalls, 1);
  });

  it('onSizeLessThan and onEmpty resolve as the local queue drains, while jobs still run', async () => {
    // Ready before the queue asks, so that its first claim takes all three.
    await saveJobs('ev-drain', 3);
    const gate = new Gate();
    const queue = track(Job.processJobs('queue', 'ev-drain', options({ prefetch: 2 }), async () => gate.pass()));
    await nextEvent(queue, 'active');
    // One claim of three: one running, two held.
    assert.deepEqual([queue.running(), queue.length()], [1, 2]);
    await queue.onSizeLessThan(3);
    let empty = false;
    const emptied = queue.onEmpty().then(() => (empty = true));
    const belowTwo = queue.onSizeLessThan(2);

    const secondStarted = nextEvent(queue, 'active');
    gate.openOne();
    await belowTwo;
    assert.equal(queue.length(), 1);
    assert.equal(empty, false);
    await secondStarted;

    const thirdStarted = nextEvent(queue, 'active');
    gate.openOne();
    await emptied;
    assert.deepEqual([queue.running(), queue.length()], [1, 0], 'empty while the last job runs');
    await thirdStarted;

    const idle = nextEvent(queue, 'idle');
    gate.openOne();
    await idle;
    await queue.onIdle();
    assert.deepEqual(errors, []);
  });
});
