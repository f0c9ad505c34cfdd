// Job.processJobs / JobQueue against a real server: the concurrency limit, payload arrays,
// prefetch, both worker styles, the shutdown levels and their effect on job states, onIdle,
// the push wake-up and claiming the next job with jobDone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Job } from '../../worker/index.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { Gate } from './helpers/gate.ts';
import { nextEvents } from './helpers/queue-events.ts';
import { queueSuite } from './helpers/worker-env.ts';

const patience = { timeoutMs: 10_000 };

describe('JobQueue', () => {
  const suite = queueSuite((errors) => assert.deepEqual(errors, [], 'no errors reported'));
  const { track, options } = suite;
  const saveJobs = (type: string, count: number, build: (job: Job) => Job = (job) => job) =>
    Job.saveMany('queue', Array.from({ length: count }, (_, i) => build(new Job('queue', type, { i })))) as Promise<string[]>;
  const statuses = async (ids: string[]) => (await Job.getJobs('queue', ids)).map((job) => job.doc.status);
  const allCompleted = async (ids: string[]) => (await statuses(ids)).every((s) => s === 'completed');

  it('never runs more than `concurrency` workers at once, and completes every job', async () => {
    const ids = await saveJobs('conc', 40);
    const gate = new Gate();
    const queue = track(Job.processJobs('queue', 'conc', options({ concurrency: 5 }), async (job) => {
      await gate.pass();
      return { i: job.data.i };
    }));
    await waitFor(() => {
      // Let a full house go, and the stragglers at the end.
      if (gate.held === 5 || (gate.held > 0 && gate.started === 40)) gate.open();
      return gate.started === 40 && gate.inFlight === 0;
    }, patience);
    await queue.onIdle();
    assert.equal(gate.maxInFlight, 5);
    await waitFor(() => allCompleted(ids), patience);
    const results = (await Job.getJobs('queue', ids)).map((job) => job.doc.result?.i).sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(results, ids.map((_, i) => i));
  });

  it('gives a payload > 1 worker arrays of jobs, and a meteor-job style worker its callback', async () => {
    // Every job ready before the queue starts, one worker call at a time and nothing claimed
    // ahead: each getWork takes a full payload while one is left, so the batches are known.
    const ids = await saveJobs('payload', 14);
    const batches: string[][] = [];
    const queue = track(Job.processJobs('queue', 'payload', options({ concurrency: 1, payload: 3, prefetch: 0 }), (jobs, cb) => {
      assert.ok(Array.isArray(jobs));
      batches.push(jobs.map((job) => job.id as string));
      void Promise.all(jobs.map((job) => job.done({ batch: jobs.length }))).then(() => cb());
    }));
    const completed = await nextEvents(queue, 'completed', 14);
    await queue.onIdle();
    assert.deepEqual(batches.map((batch) => batch.length), [3, 3, 3, 3, 2]);
    assert.deepEqual(batches.flat().sort(), [...ids].sort(), 'every job in exactly one batch');
    assert.deepEqual(completed.map(([job]) => job.id).sort(), [...ids].sort(), 'every job completed once');
    assert.ok(await allCompleted(ids));
  });

  it('completes every job of an async payload worker with its result', async () => {
    const ids = await saveJobs('payload-async', 5);
    track(Job.processJobs('queue', 'payload-async', options({ payload: 5 }), async (jobs) => ({ size: jobs.length })));
    await waitFor(() => allCompleted(ids), patience);
    // All five were ready before the queue asked: one call got them all.
    const sizes = (await Job.getJobs('queue', ids)).map((job) => job.doc.result?.size);
    assert.deepEqual(sizes, [5, 5, 5, 5, 5]);
  });

  it('prefetches: holds extra claimed jobs locally while the worker is busy', async () => {
    const ids = await saveJobs('prefetch', 4);
    const gate = new Gate();
    const queue = track(Job.processJobs('queue', 'prefetch', options({ prefetch: 2 }), async () => gate.pass()));
    await waitFor(() => gate.held === 1 && queue.length() === 2, patience);
    assert.equal(queue.running(), 1);
    assert.equal(queue.full(), true);
    assert.deepEqual((await statuses(ids)).sort(), ['ready', 'running', 'running', 'running']);
    await waitFor(() => {
      gate.open();
      return gate.started === 4 && queue.idle();
    }, patience);
    await waitFor(() => allCompleted(ids), patience);
  });

  it('completes a job with what an async worker resolves, and fails it with what it throws (then retries)', async () => {
    const [id] = await saveJobs('async', 1, (job) => job.retry({ retries: 1, wait: 0 }));
    let attempts = 0;
    track(Job.processJobs('queue', 'async', options(), async (job) => {
      attempts += 1;
      if (attempts === 1) throw new Error('first attempt fails');
      return `done on attempt ${attempts} of ${job.type}`;
    }));
    await waitFor(() => allCompleted([id as string]), patience);
    const job = await Job.getJob('queue', id as string, { getFailures: true });
    assert.deepEqual(job?.doc.result, { value: 'done on attempt 2 of async' });
    assert.equal(job?.doc.failures?.[0]?.value, 'first attempt fails');
    assert.equal(job?.doc.retried, 2);
  });

  it('fails a job for good when an async worker throws and no retries are left', async () => {
    const [id] = await saveJobs('async-fail', 1);
    track(Job.processJobs('queue', 'async-fail', options(), () => {
      throw new RangeError('no way');
    }));
    await waitFor(async () => (await statuses([id as string]))[0] === 'failed', patience);
  });

  it('leaves alone the jobs an async worker reported itself', async () => {
    const ids = await saveJobs('self-report', 2);
    track(Job.processJobs('queue', 'self-report', options(), async (job) => {
      if (job.data.i === 0) await job.done({ mine: true });
      else await job.fail('mine', { fatal: true });
      return { queue: true };
    }));
    await waitFor(async () => (await statuses(ids)).join() === 'completed,failed', patience);
    const [done] = await Job.getJobs('queue', ids);
    assert.deepEqual(done?.doc.result, { mine: true });
    const log = (await Job.getJob('queue', ids[0] as string, { getLog: true }))?.doc.log ?? [];
    assert.equal(log.filter((e) => e.message === 'Job Completed').length, 1);
  });

  it('fails the job of a callback worker that throws, and frees its slot', async () => {
    const ids = await saveJobs('throws', 2);
    track(Job.processJobs('queue', 'throws', options({ errorCallback: () => undefined }), (job, cb) => {
      if (job.data.i === 0) throw new Error('sync throw');
      void job.done().then(cb);
    }));
    await waitFor(async () => (await statuses(ids)).join() === 'failed,completed', patience);
  });

  it('reports a worker callback called twice, and throws with callbackStrict', async () => {
    await saveJobs('twice', 2);
    const reported: Error[] = [];
    const thrown: unknown[] = [];
    track(Job.processJobs('queue', 'twice', { callbackStrict: true, errorCallback: (e) => reported.push(e) }, (job, cb) => {
      void job.done().then(() => {
        cb();
        try {
          cb();
        } catch (error) {
          thrown.push(error);
        }
      });
    }));
    await waitFor(() => thrown.length === 2, patience);
    assert.match(String(reported[0]?.message), /called multiple times/);
    assert.match(String(thrown[0]), /invoked multiple times/);
  });

  it('pauses and resumes; onIdle resolves once nothing is queued or running', async () => {
    // No request waiting on the server: one already waiting when the queue pauses may still
    // claim jobs (held, not started, until resume).
    const queue = track(Job.processJobs('queue', 'pausing', options({ waitMs: 0 }), async () => ({})));
    assert.equal(queue.idle(), true);
    await queue.onIdle();
    queue.pause();
    assert.equal(queue.paused, true);
    const ids = await saveJobs('pausing', 3);
    queue.trigger();
    assert.deepEqual(await statuses(ids), ['ready', 'ready', 'ready'], 'a paused queue asks for nothing');
    queue.resume();
    await waitFor(() => allCompleted(ids), patience);
    await queue.onIdle();
    assert.equal(queue.length() + queue.running(), 0);
  });

  it('processes several types with one queue', async () => {
    const a = await saveJobs('type-a', 2);
    const b = await saveJobs('type-b', 2);
    const seen: string[] = [];
    track(Job.processJobs('queue', ['type-a', 'type-b'], options({ concurrency: 4 }), async (job) => void seen.push(job.type)));
    await waitFor(() => allCompleted([...a, ...b]), patience);
    assert.deepEqual(seen.sort(), ['type-a', 'type-a', 'type-b', 'type-b']);
  });

  it('picks up a job saved after it went idle at once, without waiting for pollInterval', async () => {
    const seen: string[] = [];
    const queue = track(Job.processJobs('queue', 'wake', options({ pollInterval: 3_600_000 }), async (job) => void seen.push(job.id as string)));
    const [first] = await saveJobs('wake', 1);
    await waitFor(() => seen.length === 1, patience);
    await queue.onIdle();
    const saved = Date.now();
    const [second] = await saveJobs('wake', 1);
    await waitFor(() => seen.length === 2, patience);
    assert.deepEqual(seen, [first, second]);
    assert.ok(Date.now() - saved < 5_000, 'well before the poll interval');
  });

  it('claims the next job in the same round trip as the done (jobDone with next)', async () => {
    const ids = await saveJobs('chain', 10);
    const calls: string[] = [];
    const { connection } = suite.env;
    const apply = connection.apply.bind(connection);
    connection.apply = ((method: string, params: unknown[]) => {
      const last = params[params.length - 1] as { next?: unknown } | undefined;
      calls.push(method === 'queue_jobDone' && last?.next !== undefined ? 'done+next' : method);
      return apply(method, params);
    }) as typeof connection.apply;
    try {
      const queue = track(Job.processJobs('queue', 'chain', options({ waitMs: 0, pollInterval: false }), async () => ({})));
      await waitFor(() => allCompleted(ids), patience);
      await queue.onIdle();
    } finally {
      connection.apply = apply;
    }
    const count = (name: string) => calls.filter((c) => c === name).length;
    assert.equal(count('done+next'), 10, calls.join(' '));
    assert.ok(count('queue_getWork') <= 2, `getWork calls: ${calls.join(' ')}`);
  });

  describe('shutdown', () => {
    /** One job running (held by the gate) and two prefetched, of the default single attempt. */
    const busyQueue = async (type: string, style: 'async' | 'callback' = 'async') => {
      const ids = await saveJobs(type, 3);
      const gate = new Gate();
      const answers: (boolean | string)[] = [];
      const queue = track(style === 'async'
        ? Job.processJobs('queue', type, options({ prefetch: 2 }), async () => gate.pass())
        : Job.processJobs('queue', type, options({ prefetch: 2 }), (job, cb) => {
          void gate.pass().then(() => job.done()).then((answer) => {
            answers.push(answer);
            cb();
          });
        }));
      await waitFor(() => gate.held === 1 && queue.length() === 2, patience);
      return { ids, gate, queue, answers };
    };
    const failuresOf = async (id: string) => (await Job.getJob('queue', id, { getFailures: true }))?.doc.failures?.map((f) => f.value);

    it('soft: stops asking for work, finishes the queued and running jobs', async () => {
      const { ids, gate, queue } = await busyQueue('soft');
      let finished = false;
      const stopped = queue.shutdown({ level: 'soft', quiet: true }).then(() => (finished = true));
      const [late] = await saveJobs('soft', 1);
      await waitFor(() => {
        gate.open();
        return finished;
      }, patience);
      await stopped;
      assert.equal(gate.started, 3);
      assert.ok(await allCompleted(ids));
      assert.deepEqual(await statuses([late as string]), ['ready'], 'nothing claimed after shutdown began');
      assert.equal(queue.idle(), true);
    });

    it('normal: fails the queued jobs with "Worker shutdown", waits for the running one', async () => {
      const { ids, gate, queue } = await busyQueue('normal');
      let finished = false;
      const stopped = new Promise<void>((resolve) => queue.shutdown({ level: 'normal' }, () => {
        finished = true;
        resolve();
      }));
      await waitFor(async () => (await statuses(ids)).filter((s) => s === 'failed').length === 2, patience);
      assert.equal(finished, false, 'still waiting for the running job');
      gate.open();
      await stopped;
      assert.deepEqual((await statuses(ids)).sort(), ['completed', 'failed', 'failed']);
      for (const job of await Job.getJobs('queue', ids)) {
        if (job.doc.status === 'failed') assert.deepEqual(await failuresOf(job.id as string), ['Worker shutdown']);
      }
      assert.equal(gate.started, 1);
    });

    it('hard: fails the running job too, without waiting for it; its late done is refused', async () => {
      const { ids, gate, queue, answers } = await busyQueue('hard', 'callback');
      await queue.shutdown({ level: 'hard' });
      assert.deepEqual(await statuses(ids), ['failed', 'failed', 'failed']);
      gate.open();
      await waitFor(() => answers.length === 1, patience);
      assert.deepEqual(answers, [false]);
      assert.deepEqual(await statuses(ids), ['failed', 'failed', 'failed']);
    });

    it('a later, harder shutdown escalates; a repeated one answers the same promise', async () => {
      const { ids, gate, queue } = await busyQueue('escalate');
      const soft = queue.shutdown({ level: 'soft' });
      assert.equal(queue.shutdown({ level: 'soft' }), soft);
      await queue.shutdown({ level: 'hard' });
      await soft;
      assert.deepEqual(await statuses(ids), ['failed', 'failed', 'failed']);
      gate.open();
    });
  });
});
