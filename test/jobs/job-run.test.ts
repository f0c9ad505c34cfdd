/**
 * What a worker reports (docs/PROTOCOL.md §2.3, §3.4–§3.7): jobProgress, jobLog, jobDone (with repeats and
 * dependents) and jobFail (with retries and backoff), each guarded by the current runId.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import later from '@breejs/later';
import { createJobContext, lastLog, logMessages, newJob, plus, savedJob, type TestJobContext } from '../helpers/job-context.ts';

const everyFiveMinutes = later.parse.text('every 5 mins');

/** Saves a job of type `t` and claims it. */
async function running(q: TestJobContext, job = newJob('t'), claim: Record<string, unknown> = {}) {
  const id = await q.save(job);
  const run = await q.claim(job.type, claim);
  assert.equal(run._id, id);
  return { id, runId: run.runId };
}

describe('jobProgress', () => {
  test('records progress on the current run and answers true', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    q.clock.advance(1000);
    assert.equal(await q.call('jobProgress', id, runId, 25, 200, {}), true);
    const job = await q.mustReadJob(id);
    assert.deepEqual(job.progress, { completed: 25, total: 200, percent: 12.5 });
    assert.deepEqual(job.updated, q.clock.now());
    assert.equal(job.expiresAfter, undefined);
    assert.equal(await q.call('jobProgress', id, runId, 200, 200), true);
    assert.deepEqual((await q.mustReadJob(id)).progress, { completed: 200, total: 200, percent: 100 });
  });

  test('extends the lease of a job with a workTimeout', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q, newJob('t'), { workTimeout: 10_000 });
    const now = q.clock.advance(4000);
    assert.equal(await q.call('jobProgress', id, runId, 1, 2, {}), true);
    assert.deepEqual((await q.mustReadJob(id)).expiresAfter, plus(now, 10_000));
  });

  test('answers false for a stale runId, a job not running, or an unknown job, and changes nothing', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    const ready = await q.save(newJob('other'));
    const before = await q.snapshot();
    assert.equal(await q.call('jobProgress', id, 'StaleRunIdXXXXXXX', 1, 2, {}), false);
    assert.equal(await q.call('jobProgress', ready, runId, 1, 2, {}), false);
    assert.equal(await q.call('jobProgress', 'NoSuchJobXXXXXXXX', runId, 1, 2, {}), false);
    assert.deepEqual(await q.snapshot(), before);
  });

  test('answers null while the server is stopped, and changes nothing', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    await q.call('shutdownJobServer', {});
    const before = await q.snapshot();
    assert.equal(await q.call('jobProgress', id, runId, 1, 2, {}), null);
    assert.deepEqual(await q.snapshot(), before);
  });

  test('refuses completed > total and every bad argument with a 400', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    await q.expectMatchFailed('jobProgress', id, runId, 3, 2, {});
    await q.expectMatchFailed('jobProgress', id, runId, 1, 0, {});
    await q.expectMatchFailed('jobProgress', id, runId, -1, 2, {});
    await q.expectMatchFailed('jobProgress', id, runId, '1', 2, {});
    await q.expectMatchFailed('jobProgress', id, null, 1, 2, {});
    await q.expectMatchFailed('jobProgress', 5, runId, 1, 2, {});
    await q.expectMatchFailed('jobProgress', id, runId, 1);
    await q.expectMatchFailed('jobProgress', id, runId, 1, 2, null);
    // meteor-job strips `echo` only when truthy: `{echo: false}` is a 400, as upstream.
    await q.expectMatchFailed('jobProgress', id, runId, 1, 2, { echo: false });
  });
});

describe('jobLog', () => {
  test('appends an entry with level and data, whatever the status or runId', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    const now = q.clock.advance(1000);
    assert.equal(await q.call('jobLog', id, runId, 'working', { level: 'warning', data: { step: 2 } }), true);
    let job = await q.mustReadJob(id);
    assert.deepEqual(lastLog(job), { time: now, runId, level: 'warning', message: 'working', data: { step: 2 } });
    assert.deepEqual(job.updated, now);
    assert.equal(await q.call('jobLog', id, null, 'from outside'), true);
    assert.deepEqual(lastLog(await q.mustReadJob(id)), { time: now, runId: null, level: 'info', message: 'from outside' });
    assert.equal(await q.call('jobLog', id, 'StaleRunIdXXXXXXX', 'stale', {}), true);
    await q.call('jobDone', id, runId, {}, {});
    assert.equal(await q.call('jobLog', id, runId, 'after the end', { level: 'success' }), true);
    job = await q.mustReadJob(id);
    assert.deepEqual(logMessages(job).slice(-4), ['from outside', 'stale', 'Job Completed', 'after the end']);
  });

  test('extends the lease of a running job with a workTimeout, and only of such a job', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q, newJob('t'), { workTimeout: 10_000 });
    const now = q.clock.advance(3000);
    await q.call('jobLog', id, runId, 'alive', {});
    assert.deepEqual((await q.mustReadJob(id)).expiresAfter, plus(now, 10_000));
    await q.call('jobDone', id, runId, {}, {});
    const doneAt = (await q.mustReadJob(id)).expiresAfter;
    q.clock.advance(3000);
    await q.call('jobLog', id, runId, 'after', {});
    assert.deepEqual((await q.mustReadJob(id)).expiresAfter, doneAt);
  });

  test('answers false for an unknown job', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    assert.equal(await q.call('jobLog', 'NoSuchJobXXXXXXXX', null, 'x', {}), false);
    assert.deepEqual(await q.snapshot(), []);
  });

  test('bad input is a 400', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t'));
    await q.expectMatchFailed('jobLog', id, null, 5, {});
    await q.expectMatchFailed('jobLog', id, 5, 'x', {});
    await q.expectMatchFailed('jobLog', 5, null, 'x', {});
    await q.expectMatchFailed('jobLog', id, null);
    await q.expectMatchFailed('jobLog', id, null, 'x', null);
    await q.expectMatchFailed('jobLog', id, null, 'x', { level: 'debug' });
    await q.expectMatchFailed('jobLog', id, null, 'x', { data: [1] });
    await q.expectMatchFailed('jobLog', id, null, 'x', { data: 'text' });
    await q.expectMatchFailed('jobLog', id, null, 'x', { echo: true });
  });
});

describe('jobDone', () => {
  test('completes the current run: result, full progress, Job Completed, runId kept', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    const now = q.clock.advance(1000);
    assert.equal(await q.call('jobDone', id, runId, { answer: 42 }, {}), true);
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'completed');
    assert.equal(job.runId, runId);
    assert.deepEqual(job.result, { answer: 42 });
    assert.deepEqual(job.progress, { completed: 1, total: 1, percent: 100 });
    assert.deepEqual(job.updated, now);
    assert.deepEqual(lastLog(job), { time: now, runId, level: 'success', message: 'Job Completed' });
  });

  test('keeps the reported total in the final progress', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    await q.call('jobProgress', id, runId, 3, 10, {});
    await q.call('jobDone', id, runId, {}, {});
    assert.deepEqual((await q.mustReadJob(id)).progress, { completed: 10, total: 10, percent: 100 });
  });

  test('answers false for a stale runId, twice-done, or an unknown job', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    const before = await q.snapshot();
    assert.equal(await q.call('jobDone', id, 'StaleRunIdXXXXXXX', {}, {}), false);
    assert.equal(await q.call('jobDone', 'NoSuchJobXXXXXXXX', runId, {}, {}), false);
    assert.deepEqual(await q.snapshot(), before);
    assert.equal(await q.call('jobDone', id, runId, {}, {}), true);
    const done = await q.snapshot();
    assert.equal(await q.call('jobDone', id, runId, {}, {}), false);
    assert.deepEqual(await q.snapshot(), done);
  });

  test('a cancelled running job can no longer be done or failed', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    assert.equal(await q.call('jobCancel', id, {}), true);
    assert.equal(await q.call('jobProgress', id, runId, 1, 2, {}), false);
    assert.equal(await q.call('jobDone', id, runId, {}, {}), false);
    assert.equal(await q.call('jobFail', id, runId, {}, {}), false);
    assert.equal((await q.mustReadJob(id)).status, 'cancelled');
  });

  test('bad input is a 400', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    await q.expectMatchFailed('jobDone', id, runId, 'result', {});
    await q.expectMatchFailed('jobDone', id, runId, null, {});
    await q.expectMatchFailed('jobDone', id, runId, [1], {});
    await q.expectMatchFailed('jobDone', id, null, {}, {});
    await q.expectMatchFailed('jobDone', 5, runId, {}, {});
    await q.expectMatchFailed('jobDone', id, runId);
    await q.expectMatchFailed('jobDone', id, runId, {}, null);
    await q.expectMatchFailed('jobDone', id, runId, {}, { bogus: true });
    await q.expectMatchFailed('jobDone', id, runId, {}, { repeatId: 'yes' });
    await q.expectMatchFailed('jobDone', id, runId, {}, { delayDeps: -1 });
    await q.expectMatchFailed('jobDone', id, runId, {}, { delayDeps: 1.5 });
    assert.equal((await q.mustReadJob(id)).status, 'running');
  });
});

describe('jobDone: repeats (§3.5)', () => {
  test('clones the job after repeatWait: fresh retries, runId, progress and log', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const repeatUntil = plus(q.clock.now(), 86_400_000);
    const job = newJob('t', { n: 1 }).priority('high').retry({ retries: 2, wait: 0 }).repeat({ repeats: 3, wait: 60_000, until: repeatUntil });
    const id = await q.save(job);
    // A failed attempt first, so that retries and retried have moved.
    const first = await q.claim('t', { workTimeout: 1000 });
    await q.call('jobFail', id, first.runId, { value: 'once' }, {});
    await q.call('jobReady', id, {});
    const second = await q.claim('t', { workTimeout: 1000 });
    const now = q.clock.advance(500);
    const repeatId = await q.call('jobDone', id, second.runId, { ok: true }, { repeatId: true });
    assert.equal(typeof repeatId, 'string');
    assert.notEqual(repeatId, id);
    const clone = await q.mustReadJob(repeatId as string);
    assert.equal(clone.status, 'waiting');
    assert.equal(clone.runId, null);
    assert.equal(clone.type, 't');
    assert.deepEqual(clone.data, { n: 1 });
    assert.equal(clone.priority, -10);
    assert.deepEqual(clone.after, plus(now, 60_000));
    assert.deepEqual(clone.created, now);
    assert.deepEqual(clone.updated, now);
    assert.equal(clone.retries, 3);
    assert.equal(clone.repeatRetries, 3);
    assert.equal(clone.retried, 0);
    assert.deepEqual(clone.retryUntil, repeatUntil);
    assert.equal(clone.repeats, 2);
    assert.equal(clone.repeated, 1);
    assert.deepEqual(clone.repeatUntil, repeatUntil);
    assert.equal(clone.repeatWait, 60_000);
    assert.deepEqual(clone.progress, { completed: 0, total: 1, percent: 0 });
    for (const key of ['result', 'failures', 'workTimeout', 'expiresAfter'] as const) {
      assert.equal(clone[key], undefined, `${key} is not copied`);
    }
    assert.deepEqual(clone.log, [
      { time: now, runId: null, level: 'info', message: 'Rerunning job', data: { previousJob: { id, runId: second.runId } } },
    ]);
    assert.equal((await q.mustReadJob(id)).status, 'completed');
  });

  test('answers true, not the id, without repeatId', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q, newJob('t').repeat({ repeats: 1, wait: 60_000 }));
    assert.equal(await q.call('jobDone', id, runId, {}, {}), true);
    assert.equal((await q.snapshot()).length, 2);
  });

  test('a repeat with wait 0 is ready at once', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q, newJob('t').repeat({ repeats: 1, wait: 0 }));
    const repeatId = await q.call('jobDone', id, runId, {}, { repeatId: true });
    const clone = await q.mustReadJob(repeatId as string);
    assert.equal(clone.status, 'ready');
    assert.deepEqual(logMessages(clone), ['Rerunning job', 'Promoted to ready']);
    assert.equal(clone.repeats, 0);
    // The last repeat does not repeat again.
    const again = await q.claim('t');
    assert.equal(await q.call('jobDone', again._id, again.runId, {}, { repeatId: true }), true);
    assert.equal((await q.snapshot()).length, 2);
  });

  test('no repeat when repeats is 0; repeatId then answers true', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    assert.equal(await q.call('jobDone', id, runId, {}, { repeatId: true }), true);
    assert.equal((await q.snapshot()).length, 1);
  });

  test('repeats only while repeatUntil - repeatWait >= now', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const now = q.clock.now();
    const atLimit = await running(q, newJob('t').repeat({ repeats: 5, wait: 60_000, until: plus(now, 60_000) }));
    assert.equal(typeof (await q.call('jobDone', atLimit.id, atLimit.runId, {}, { repeatId: true })), 'string');
    const beyond = await running(q, newJob('u').repeat({ repeats: 5, wait: 60_000, until: plus(now, 59_999) }));
    assert.equal(await q.call('jobDone', beyond.id, beyond.runId, {}, { repeatId: true }), true);
    assert.equal((await q.snapshot()).filter((job) => job.type === 'u').length, 1);
  });

  describe('with a later.js schedule', () => {
    /** A job on "every 5 mins", saved at 00:00:00.5, made ready and claimed at its first run, 00:05. */
    async function scheduled(q: TestJobContext, until?: Date) {
      q.clock.set(new Date('2030-01-01T00:00:00.500Z'));
      const job = newJob('cron').repeat(until === undefined ? { repeats: 10, schedule: everyFiveMinutes } : { repeats: 10, schedule: everyFiveMinutes, until });
      const id = await q.save(job);
      assert.deepEqual((await q.mustReadJob(id)).after, new Date('2030-01-01T00:05:00Z'));
      q.clock.set(new Date('2030-01-01T00:05:00Z'));
      assert.equal(await q.call('jobReady', [], {}), true);
      const run = await q.claim('cron');
      return { id, runId: run.runId };
    }

    for (const [doneAt, next] of [
      ['2030-01-01T00:09:59.000Z', '2030-01-01T00:10:00.000Z'],
      ['2030-01-01T00:09:59.499Z', '2030-01-01T00:10:00.000Z'],
      // The next occurrence is 500 ms away or less: the one after it.
      ['2030-01-01T00:09:59.500Z', '2030-01-01T00:15:00.000Z'],
      ['2030-01-01T00:09:59.700Z', '2030-01-01T00:15:00.000Z'],
      ['2030-01-01T00:05:00.000Z', '2030-01-01T00:10:00.000Z'],
    ] as const) {
      test(`done at ${doneAt} repeats at ${next}`, async (t) => {
        const q = await createJobContext();
        t.after(() => q.close());
        const { id, runId } = await scheduled(q);
        q.clock.set(new Date(doneAt));
        const repeatId = await q.call('jobDone', id, runId, {}, { repeatId: true });
        assert.equal(typeof repeatId, 'string');
        const clone = await q.mustReadJob(repeatId as string);
        assert.deepEqual(clone.after, new Date(next));
        assert.equal(clone.status, 'waiting');
        assert.equal(clone.repeats, 9);
        assert.deepEqual(clone.repeatWait, { schedules: everyFiveMinutes.schedules, exceptions: [] });
      });
    }

    test('repeats only while repeatUntil - wait >= now', async (t) => {
      const q = await createJobContext();
      t.after(() => q.close());
      const kept = await scheduled(q, new Date('2030-01-01T00:10:00Z'));
      q.clock.set(new Date('2030-01-01T00:07:00Z'));
      assert.equal(typeof (await q.call('jobDone', kept.id, kept.runId, {}, { repeatId: true })), 'string');

      const r = await createJobContext();
      t.after(() => r.close());
      const dropped = await scheduled(r, new Date('2030-01-01T00:09:59Z'));
      r.clock.set(new Date('2030-01-01T00:07:00Z'));
      assert.equal(await r.call('jobDone', dropped.id, dropped.runId, {}, { repeatId: true }), true);
      assert.equal((await r.snapshot()).length, 1);
    });

    test('no repeat when the only occurrence left is 500 ms away or less', async (t) => {
      const q = await createJobContext();
      t.after(() => q.close());
      const once = { schedules: [{ Y: [2030], M: [1], D: [1], h: [0], m: [10], s: [0] }] };
      q.clock.set(new Date('2030-01-01T00:00:00Z'));
      const id = await q.save(newJob('cron').repeat({ repeats: 5, schedule: once }));
      q.clock.set(new Date('2030-01-01T00:10:00Z'));
      await q.call('jobReady', id, {});
      const run = await q.claim('cron');
      q.clock.set(new Date('2030-01-01T00:10:00.200Z'));
      assert.equal(await q.call('jobDone', id, run.runId, {}, { repeatId: true }), true);
      assert.equal((await q.snapshot()).length, 1);
    });
  });
});

describe('jobDone: dependents (§3.6)', () => {
  test('resolves the dependency, logs it with its data, and promotes a dependent that is free', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('a'));
    const b = await q.save(newJob('b'));
    const both = await q.save(newJob('c').depends([savedJob(a), savedJob(b)]));
    const onlyA = await q.save(newJob('c').depends([savedJob(a)]));
    const runA = await q.claim('a');
    const now = q.clock.advance(1000);
    assert.equal(await q.call('jobDone', a, runA.runId, {}, {}), true);
    const free = await q.mustReadJob(onlyA);
    assert.equal(free.status, 'ready');
    assert.deepEqual(free.depends, []);
    assert.deepEqual(free.resolved, [a]);
    assert.deepEqual(free.log?.slice(-2), [
      { time: now, runId: null, level: 'info', message: 'Dependency resolved', data: { dependency: { id: a, runId: runA.runId } } },
      { time: now, runId: null, level: 'info', message: 'Promoted to ready' },
    ]);
    const waiting = await q.mustReadJob(both);
    assert.equal(waiting.status, 'waiting');
    assert.deepEqual(waiting.depends, [b]);
    assert.deepEqual(waiting.resolved, [a]);
    assert.equal(lastLog(waiting).message, 'Dependency resolved');
    const runB = await q.claim('b');
    await q.call('jobDone', b, runB.runId, {}, {});
    const ready = await q.mustReadJob(both);
    assert.equal(ready.status, 'ready');
    assert.deepEqual(ready.resolved, [a, b]);
  });

  test('delayDeps holds dependents back until now + delayDeps, never earlier than their own after', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('a'));
    const soon = await q.save(newJob('b').depends([savedJob(a)]));
    const late = await q.save(newJob('b').depends([savedJob(a)]).delay(3_600_000));
    const lateAfter = (await q.mustReadJob(late)).after;
    const run = await q.claim('a');
    const now = q.clock.now();
    await q.call('jobDone', a, run.runId, {}, { delayDeps: 60_000 });
    const held = await q.mustReadJob(soon);
    assert.equal(held.status, 'waiting');
    assert.deepEqual(held.after, plus(now, 60_000));
    assert.deepEqual((await q.mustReadJob(late)).after, lateAfter);
    q.clock.advance(60_000);
    assert.equal(await q.call('jobReady', [], {}), true);
    assert.equal((await q.mustReadJob(soon)).status, 'ready');
    assert.equal((await q.mustReadJob(late)).status, 'waiting');
  });
});

describe('jobFail', () => {
  test('a failure with retries left waits retryWait: status waiting, runId cleared, failure recorded', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q, newJob('t').retry({ retries: 1, wait: 30_000 }));
    const now = q.clock.advance(1000);
    assert.equal(await q.call('jobFail', id, runId, { value: 'boom', code: 7 }, {}), true);
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'waiting');
    assert.equal(job.runId, null);
    assert.deepEqual(job.after, plus(now, 30_000));
    assert.deepEqual(job.updated, now);
    assert.deepEqual(job.failures, [{ value: 'boom', code: 7, runId }]);
    assert.deepEqual(lastLog(job), { time: now, runId, level: 'warning', message: 'Job Failed with Error: boom.' });
  });

  test('waits too long to represent are capped at the latest date, so the failure is still stored', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const huge = newJob('t').retry({ retries: 3, wait: 9e15 });
    const { id, runId } = await running(q, huge, { workTimeout: 9e15 });
    assert.deepEqual((await q.mustReadJob(id)).expiresAfter, new Date(8640000000000000));
    assert.equal(await q.call('jobFail', id, runId, { value: 'boom' }), true);
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'waiting');
    assert.deepEqual(job.after, new Date(8640000000000000));
    const exponential = newJob('e').retry({ retries: 3, wait: 0, backoff: 'exponential' });
    const zero = await running(q, exponential);
    assert.equal(await q.call('jobFail', zero.id, zero.runId, {}), true);
    assert.deepEqual((await q.mustReadJob(zero.id)).after, q.clock.now(), 'a zero wait stays zero');
  });

  test('the last attempt fails for good: status failed, Fatal in the message, level danger, after still set', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    const now = q.clock.now();
    assert.equal(await q.call('jobFail', id, runId, { value: 'boom' }, { fatal: false }), true);
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'failed');
    assert.equal(job.runId, null);
    assert.deepEqual(job.after, plus(now, 5 * 60 * 1000));
    assert.deepEqual(lastLog(job), { time: now, runId, level: 'danger', message: 'Job Failed with Fatal Error: boom.' });
  });

  test('fatal fails for good even with retries left', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q, newJob('t').retry(5));
    assert.equal(await q.call('jobFail', id, runId, {}, { fatal: true }), true);
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'failed');
    assert.deepEqual(lastLog(job).message, 'Job Failed with Fatal Error.');
    assert.equal(job.retries, 5);
  });

  test('the message carries err.value only when it is a string', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q, newJob('t').retry({ retries: 1, wait: 0 }));
    await q.call('jobFail', id, runId, { value: 42 }, {});
    const job = await q.mustReadJob(id);
    assert.equal(lastLog(job).message, 'Job Failed with Error.');
    assert.deepEqual(job.failures, [{ value: 42, runId }]);
  });

  for (const [backoff, waits] of [
    ['constant', [1000, 1000, 1000]],
    ['exponential', [1000, 2000, 4000]],
  ] as const) {
    test(`${backoff} backoff waits ${waits.join(', ')} ms`, async (t) => {
      const q = await createJobContext();
      t.after(() => q.close());
      const id = await q.save(newJob('t').retry({ retries: 3, wait: 1000, backoff }));
      for (const wait of waits) {
        const run = await q.claim('t');
        const now = q.clock.now();
        assert.equal(await q.call('jobFail', id, run.runId, { value: 'again' }, {}), true);
        const job = await q.mustReadJob(id);
        assert.equal(job.status, 'waiting');
        assert.deepEqual(job.after, plus(now, wait));
        // Nothing is promoted before it is due.
        assert.equal(await q.call('jobReady', [], {}), false);
        q.clock.set(job.after);
        assert.equal(await q.call('jobReady', [], {}), true);
      }
      const last = await q.claim('t');
      await q.call('jobFail', id, last.runId, { value: 'again' }, {});
      const job = await q.mustReadJob(id);
      assert.equal(job.status, 'failed');
      assert.equal(job.retried, 4);
      assert.equal(job.retries, 0);
      assert.equal(job.failures?.length, 4);
    });
  }

  test('retryUntil: retried only while the retry time is not after retryUntil', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const now = q.clock.now();
    const atLimit = await running(q, newJob('t').retry({ retries: 5, wait: 60_000, until: plus(now, 60_000) }));
    await q.call('jobFail', atLimit.id, atLimit.runId, {}, {});
    assert.equal((await q.mustReadJob(atLimit.id)).status, 'waiting');
    const beyond = await running(q, newJob('u').retry({ retries: 5, wait: 60_000, until: plus(now, 59_999) }));
    await q.call('jobFail', beyond.id, beyond.runId, {}, {});
    const job = await q.mustReadJob(beyond.id);
    assert.equal(job.status, 'failed');
    assert.equal(lastLog(job).level, 'danger');
  });

  test('a retry with wait 0 is due at once (promotion is the scheduler\'s job)', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q, newJob('t').retry({ retries: 1, wait: 0 }));
    await q.call('jobFail', id, runId, {}, {});
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'waiting');
    assert.deepEqual(job.after, q.clock.now());
    assert.equal(await q.call('jobReady', [], {}), true);
    assert.equal((await q.claim('t'))._id, id);
  });

  test('answers false for a stale runId, a job not running, or an unknown job', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q, newJob('t').retry({ retries: 1, wait: 0 }));
    const before = await q.snapshot();
    assert.equal(await q.call('jobFail', id, 'StaleRunIdXXXXXXX', {}, {}), false);
    assert.equal(await q.call('jobFail', 'NoSuchJobXXXXXXXX', runId, {}, {}), false);
    assert.deepEqual(await q.snapshot(), before);
    assert.equal(await q.call('jobFail', id, runId, {}, {}), true);
    const failed = await q.snapshot();
    assert.equal(await q.call('jobFail', id, runId, {}, {}), false);
    assert.deepEqual(await q.snapshot(), failed);
  });

  test('failing for good cancels the dependents, cascading; a retry does not', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('a').retry({ retries: 1, wait: 0 }));
    const b = await q.save(newJob('b').depends([savedJob(a)]));
    const c = await q.save(newJob('c').depends([savedJob(b)]));
    const other = await q.save(newJob('d'));
    const first = await q.claim('a');
    await q.call('jobFail', a, first.runId, {}, {});
    assert.equal((await q.mustReadJob(b)).status, 'waiting');
    await q.call('jobReady', a, {});
    const second = await q.claim('a');
    await q.call('jobFail', a, second.runId, {}, {});
    for (const id of [b, c]) {
      const job = await q.mustReadJob(id);
      assert.equal(job.status, 'cancelled');
      assert.deepEqual(lastLog(job), { time: q.clock.now(), runId: null, level: 'warning', message: 'Job Cancelled' });
    }
    assert.equal((await q.mustReadJob(other)).status, 'ready');
  });

  test('bad input is a 400', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id, runId } = await running(q);
    await q.expectMatchFailed('jobFail', id, runId, 'boom', {});
    await q.expectMatchFailed('jobFail', id, runId, null, {});
    await q.expectMatchFailed('jobFail', id, null, {}, {});
    await q.expectMatchFailed('jobFail', 5, runId, {}, {});
    await q.expectMatchFailed('jobFail', id, runId);
    await q.expectMatchFailed('jobFail', id, runId, {}, null);
    await q.expectMatchFailed('jobFail', id, runId, {}, { fatal: 'yes' });
    await q.expectMatchFailed('jobFail', id, runId, {}, { bogus: true });
    assert.equal((await q.mustReadJob(id)).status, 'running');
  });
});
