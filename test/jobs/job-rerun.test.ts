/** jobRerun (docs/PROTOCOL.md §2.3, §3.5, §5.12): cloning a completed job into a new one. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import later from '@breejs/later';
import type Job from 'meteor-job';
import { forever } from '../../shared/constants.ts';
import { createJobContext, logMessages, newJob, plus, type TestJobContext } from '../helpers/job-context.ts';

/** Saves, claims and completes a job; returns its id and runId. */
async function completed(q: TestJobContext, job: Job | Record<string, unknown> = newJob('t', { n: 1 })) {
  const id = await q.save(job);
  const run = await q.claim((await q.mustReadJob(id)).type, { workTimeout: 1000 });
  assert.equal(await q.call('jobDone', id, run.runId, { ok: true }, {}), true);
  return { id, runId: run.runId };
}

describe('jobRerun', () => {
  test('with what meteor-job sends ({repeats: 0, wait: repeatWait}): a fresh copy after the wait', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const repeatUntil = plus(q.clock.now(), 86_400_000);
    const job = newJob('t', { n: 1 }).priority('low').retry(2).repeat({ repeats: 0, wait: 60_000, until: repeatUntil });
    const { id, runId } = await completed(q, job);
    const original = await q.mustReadJob(id);
    const now = q.clock.advance(1000);
    const newId = await q.call('jobRerun', id, { repeats: 0, wait: 60_000 });
    assert.equal(typeof newId, 'string');
    assert.notEqual(newId, id);
    const clone = await q.mustReadJob(newId as string);
    assert.equal(clone.status, 'waiting');
    assert.equal(clone.runId, null);
    assert.equal(clone.type, 't');
    assert.deepEqual(clone.data, { n: 1 });
    assert.equal(clone.priority, 10);
    assert.deepEqual(clone.after, plus(now, 60_000));
    assert.deepEqual(clone.created, now);
    assert.deepEqual(clone.updated, now);
    assert.equal(clone.retries, 3);
    assert.equal(clone.repeatRetries, 3);
    assert.equal(clone.retried, 0);
    assert.equal(clone.repeats, 0);
    assert.equal(clone.repeated, 1);
    assert.deepEqual(clone.repeatUntil, repeatUntil);
    assert.deepEqual(clone.retryUntil, repeatUntil);
    assert.deepEqual(clone.progress, { completed: 0, total: 1, percent: 0 });
    for (const key of ['result', 'failures', 'workTimeout', 'expiresAfter'] as const) {
      assert.equal(clone[key], undefined, `${key} is not copied`);
    }
    assert.deepEqual(clone.log, [
      { time: now, runId: null, level: 'info', message: 'Rerunning job', data: { previousJob: { id, runId } } },
    ]);
    assert.deepEqual(await q.mustReadJob(id), original);
  });

  test('without options: no repeats, wait 0 (ready at once), until = the job\'s repeatUntil', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const repeatUntil = plus(q.clock.now(), 86_400_000);
    const { id } = await completed(q, newJob('t').repeat({ repeats: 0, until: repeatUntil }));
    const newId = await q.call('jobRerun', id);
    const clone = await q.mustReadJob(newId as string);
    assert.equal(clone.status, 'ready');
    assert.equal(clone.repeats, 0);
    assert.deepEqual(clone.repeatUntil, repeatUntil);
    assert.deepEqual(logMessages(clone), ['Rerunning job', 'Promoted to ready']);
    assert.equal((await q.claim('t'))._id, newId);
  });

  test('repeats (capped at forever) and until are taken from the options', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id } = await completed(q);
    const until = plus(q.clock.now(), 3_600_000);
    const newId = await q.call('jobRerun', id, { repeats: 2 ** 60, until, wait: 0 });
    const clone = await q.mustReadJob(newId as string);
    assert.equal(clone.repeats, forever);
    assert.deepEqual(clone.repeatUntil, until);
    assert.deepEqual(clone.retryUntil, until);
  });

  test('a job saved without repeatRetries gets retries + retried as its copy\'s retries', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const doc: Record<string, unknown> = { ...newJob('t').retry(2).doc };
    delete doc.repeatRetries;
    const { id } = await completed(q, doc);
    const newId = await q.call('jobRerun', id, { wait: 0 });
    const clone = await q.mustReadJob(newId as string);
    assert.equal(clone.repeatRetries, 3);
    assert.equal(clone.retries, 3);
    assert.equal(clone.retried, 0);
  });

  test('a rerun of a rerun counts repeated', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id } = await completed(q);
    const second = (await q.call('jobRerun', id, { wait: 0 })) as string;
    const run = await q.claim('t');
    await q.call('jobDone', second, run.runId, {}, {});
    const third = (await q.call('jobRerun', second, { wait: 0 })) as string;
    assert.equal((await q.mustReadJob(third)).repeated, 2);
  });

  test('a schedule as the wait starts the copy at its next occurrence (Cumulus fix of §5.12)', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    q.clock.set(new Date('2030-01-01T00:00:00Z'));
    const { id } = await completed(q);
    q.clock.set(new Date('2030-01-01T00:02:30Z'));
    const schedule = later.parse.text('every 5 mins');
    const newId = await q.call('jobRerun', id, { wait: { schedules: schedule.schedules, exceptions: schedule.exceptions } });
    const clone = await q.mustReadJob(newId as string);
    assert.ok(clone.after instanceof Date && !Number.isNaN(clone.after.getTime()));
    assert.deepEqual(clone.after, new Date('2030-01-01T00:05:00Z'));
    assert.equal(clone.status, 'waiting');
  });

  test('answers false for a job that is not completed, or unknown', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ready = await q.save(newJob('t'));
    const failed = await q.save(newJob('f'));
    const run = await q.claim('f');
    await q.call('jobFail', failed, run.runId, {}, {});
    const before = await q.snapshot();
    assert.equal(await q.call('jobRerun', ready, { wait: 0 }), false);
    assert.equal(await q.call('jobRerun', failed, { wait: 0 }), false);
    assert.equal(await q.call('jobRerun', 'NoSuchJobXXXXXXXX', { wait: 0 }), false);
    assert.deepEqual(await q.snapshot(), before);
  });

  test('bad input is a 400', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { id } = await completed(q);
    await q.expectMatchFailed('jobRerun', 5, { wait: 0 });
    await q.expectMatchFailed('jobRerun', [id], { wait: 0 });
    await q.expectMatchFailed('jobRerun');
    await q.expectMatchFailed('jobRerun', id, null);
    // `wait` is a required key of the options.
    await q.expectMatchFailed('jobRerun', id, {});
    await q.expectMatchFailed('jobRerun', id, { repeats: 1 });
    await q.expectMatchFailed('jobRerun', id, { wait: -1 });
    await q.expectMatchFailed('jobRerun', id, { wait: 1.5 });
    await q.expectMatchFailed('jobRerun', id, { wait: 'every 5 mins' });
    await q.expectMatchFailed('jobRerun', id, { wait: { schedules: [], bogus: 1 } });
    await q.expectMatchFailed('jobRerun', id, { wait: 0, repeats: -1 });
    await q.expectMatchFailed('jobRerun', id, { wait: 0, until: 'tomorrow' });
    await q.expectMatchFailed('jobRerun', id, { wait: 0, bogus: true });
  });
});
