/**
 * The batch admin operations (docs/PROTOCOL.md §2.3, §3.2, §3.6): jobPause, jobResume, jobReady, jobCancel,
 * jobRestart, jobRemove — their allowed-from statuses, logs, cascades and answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobStatus } from '../../shared/constants.ts';
import { forever } from '../../shared/constants.ts';
import { createJobContext, lastLog, logMessages, newJob, plus, savedJob, type TestJobContext } from '../helpers/job-context.ts';

/** One job in each status, each of its own type (`s-<status>`). */
async function jobInEveryStatus(q: TestJobContext): Promise<Record<JobStatus, string>> {
  const waiting = await q.save(newJob('s-waiting').delay(3_600_000));
  const pausedDoc = newJob('s-paused').doc;
  pausedDoc.status = 'paused';
  const paused = await q.save(pausedDoc);
  const ready = await q.save(newJob('s-ready'));
  const running = await q.save(newJob('s-running'));
  await q.claim('s-running');
  const completed = await q.save(newJob('s-completed'));
  const doneRun = await q.claim('s-completed');
  await q.call('jobDone', completed, doneRun.runId, {}, {});
  const failed = await q.save(newJob('s-failed'));
  const failRun = await q.claim('s-failed');
  await q.call('jobFail', failed, failRun.runId, {}, { fatal: true });
  const cancelled = await q.save(newJob('s-cancelled'));
  await q.call('jobCancel', cancelled, {});
  const ids = { waiting, paused, ready, running, completed, failed, cancelled };
  for (const [status, id] of Object.entries(ids)) assert.equal((await q.mustReadJob(id)).status, status);
  return ids;
}

/** Calls `name` on each status alone and returns the statuses for which it answered true. */
async function acceptedStatuses(name: 'jobPause' | 'jobResume' | 'jobCancel' | 'jobRestart' | 'jobRemove'): Promise<JobStatus[]> {
  const accepted: JobStatus[] = [];
  for (const status of ['waiting', 'paused', 'ready', 'running', 'completed', 'failed', 'cancelled'] as const) {
    const q = await createJobContext();
    try {
      const ids = await jobInEveryStatus(q);
      const before = (await q.snapshot()).filter((job) => job._id !== ids[status]);
      const changed = await q.call(name, ids[status], {});
      if (changed) accepted.push(status);
      else assert.deepEqual((await q.mustReadJob(ids[status])).status, status);
      // No other job was touched (there are no dependencies here).
      assert.deepEqual((await q.snapshot()).filter((job) => job._id !== ids[status]), before);
    } finally {
      await q.close();
    }
  }
  return accepted;
}

/** a ← b ← c: c depends on b, b depends on a; all waiting on a delayed `a`. */
async function chain(q: TestJobContext) {
  const a = await q.save(newJob('a').delay(3_600_000));
  const b = await q.save(newJob('b').depends([savedJob(a)]));
  const c = await q.save(newJob('c').depends([savedJob(b)]));
  return { a, b, c };
}

async function statuses(q: TestJobContext, ids: Record<string, string>): Promise<Record<string, JobStatus>> {
  const result: Record<string, JobStatus> = {};
  for (const [name, id] of Object.entries(ids)) result[name] = (await q.mustReadJob(id)).status;
  return result;
}

describe('jobPause', () => {
  test('pauses ready and waiting jobs only', async () => {
    assert.deepEqual(await acceptedStatuses('jobPause'), ['waiting', 'ready']);
  });

  test('sets paused and updated, logs Job Paused; a list answers true if any changed', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ready = await q.save(newJob('t'));
    const running = await q.save(newJob('r'));
    await q.claim('r');
    const now = q.clock.advance(1000);
    assert.equal(await q.call('jobPause', [ready, running, 'NoSuchJobXXXXXXXX'], {}), true);
    const job = await q.mustReadJob(ready);
    assert.equal(job.status, 'paused');
    assert.deepEqual(job.updated, now);
    assert.deepEqual(lastLog(job), { time: now, runId: null, level: 'info', message: 'Job Paused' });
    assert.equal((await q.mustReadJob(running)).status, 'running');
    assert.equal(await q.call('jobPause', [], {}), false);
    assert.equal(await q.call('jobPause', ready), false);
  });
});

describe('jobResume', () => {
  test('resumes paused jobs only', async () => {
    assert.deepEqual(await acceptedStatuses('jobResume'), ['paused']);
  });

  test('sets waiting, logs Job Resumed, then promotes what is due', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const due = await q.save(newJob('t'));
    const delayed = await q.save(newJob('t').delay(60_000));
    assert.equal(await q.call('jobPause', [due, delayed], {}), true);
    const now = q.clock.advance(1000);
    assert.equal(await q.call('jobResume', [due, delayed], {}), true);
    const resumed = await q.mustReadJob(due);
    assert.equal(resumed.status, 'ready');
    assert.deepEqual(resumed.after, now);
    assert.deepEqual(resumed.log?.slice(-2), [
      { time: now, runId: null, level: 'info', message: 'Job Resumed' },
      { time: now, runId: null, level: 'info', message: 'Promoted to ready' },
    ]);
    const waiting = await q.mustReadJob(delayed);
    assert.equal(waiting.status, 'waiting');
    assert.equal(lastLog(waiting).message, 'Job Resumed');
    assert.equal(await q.call('jobResume', [], {}), false);
  });
});

describe('jobReady', () => {
  test('promotes a due waiting job by id, setting after to now; not before it is due', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t').after(plus(q.clock.now(), 60_000)));
    q.clock.advance(59_999);
    assert.equal(await q.call('jobReady', id, {}), false);
    const now = q.clock.advance(5);
    assert.equal(await q.call('jobReady', id, {}), true);
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'ready');
    assert.deepEqual(job.after, now);
    assert.deepEqual(job.updated, now);
    assert.deepEqual(lastLog(job), { time: now, runId: null, level: 'info', message: 'Promoted to ready' });
    assert.equal(await q.call('jobReady', id, {}), false);
  });

  test('the time option promotes jobs due by then', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const now = q.clock.now();
    const soon = await q.save(newJob('t').after(plus(now, 120_000)));
    const late = await q.save(newJob('t').after(plus(now, 120_001)));
    assert.equal(await q.call('jobReady', [soon, late], { time: plus(now, 120_000) }), true);
    assert.equal((await q.mustReadJob(soon)).status, 'ready');
    assert.deepEqual((await q.mustReadJob(soon)).after, now);
    assert.equal((await q.mustReadJob(late)).status, 'waiting');
  });

  test('an empty list means every job, and then after is kept', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const now = q.clock.now();
    const one = await q.save(newJob('t').after(plus(now, 1000)));
    const two = await q.save(newJob('u').after(plus(now, 2000)));
    const three = await q.save(newJob('v').after(plus(now, 2001)));
    const afterOfTwo = (await q.mustReadJob(two)).after;
    q.clock.advance(2000);
    assert.equal(await q.call('jobReady', [], {}), true);
    assert.equal((await q.mustReadJob(one)).status, 'ready');
    const promoted = await q.mustReadJob(two);
    assert.equal(promoted.status, 'ready');
    assert.deepEqual(promoted.after, afterOfTwo);
    assert.equal((await q.mustReadJob(three)).status, 'waiting');
    assert.equal(await q.call('jobReady', [], {}), false);
  });

  test('a job with pending dependencies is not promoted unless forced; force drops them and says so', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('a').delay(60_000));
    const b = await q.save(newJob('b').depends([savedJob(a)]));
    assert.equal(await q.call('jobReady', b, {}), false);
    assert.equal(await q.call('jobReady', b, { force: false }), false);
    const now = q.clock.advance(10);
    assert.equal(await q.call('jobReady', b, { force: true }), true);
    const job = await q.mustReadJob(b);
    assert.equal(job.status, 'ready');
    assert.deepEqual(job.depends, []);
    assert.deepEqual(job.resolved, []);
    // As upstream: the forced entry first, then the promotion.
    assert.deepEqual(job.log?.slice(-2), [
      { time: now, runId: null, level: 'warning', message: 'Dependencies force resolved' },
      { time: now, runId: null, level: 'info', message: 'Promoted to ready' },
    ]);
    // Force does not override the time.
    assert.equal(await q.call('jobReady', a, { force: true }), false);
  });

  test('promotes waiting jobs only', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ids = await jobInEveryStatus(q);
    q.clock.advance(3_600_000 + 60_000);
    const before = await q.snapshot();
    for (const status of ['paused', 'ready', 'running', 'completed', 'failed', 'cancelled'] as const) {
      assert.equal(await q.call('jobReady', ids[status], { force: true }), false, status);
    }
    assert.deepEqual(await q.snapshot(), before);
    assert.equal(await q.call('jobReady', ids.waiting, {}), true);
  });
});

describe('jobCancel', () => {
  test('cancels running, ready, waiting and paused jobs only', async () => {
    assert.deepEqual(await acceptedStatuses('jobCancel'), ['waiting', 'paused', 'ready', 'running']);
  });

  test('sets cancelled, clears runId, resets progress, logs Job Cancelled (warning)', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t'));
    const run = await q.claim('t');
    await q.call('jobProgress', id, run.runId, 1, 2, {});
    const now = q.clock.advance(1000);
    assert.equal(await q.call('jobCancel', id, { antecedents: true }), true);
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'cancelled');
    assert.equal(job.runId, null);
    assert.deepEqual(job.progress, { completed: 0, total: 1, percent: 0 });
    assert.deepEqual(job.updated, now);
    assert.deepEqual(lastLog(job), { time: now, runId: null, level: 'warning', message: 'Job Cancelled' });
    assert.equal(await q.call('jobCancel', id, {}), false);
    assert.equal(await q.call('jobCancel', [], {}), false);
  });

  test('cancels dependents by default, cascading', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ids = await chain(q);
    const other = await q.save(newJob('d'));
    assert.equal(await q.call('jobCancel', ids.a), true);
    assert.deepEqual(await statuses(q, ids), { a: 'cancelled', b: 'cancelled', c: 'cancelled' });
    assert.equal((await q.mustReadJob(other)).status, 'ready');
  });

  test('dependents: false leaves them', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ids = await chain(q);
    assert.equal(await q.call('jobCancel', ids.a, { dependents: false }), true);
    assert.deepEqual(await statuses(q, ids), { a: 'cancelled', b: 'waiting', c: 'waiting' });
  });

  test('antecedents: true cancels what the job depends on, cascading', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ids = await chain(q);
    assert.equal(await q.call('jobCancel', ids.c, { antecedents: true, dependents: false }), true);
    assert.deepEqual(await statuses(q, ids), { a: 'cancelled', b: 'cancelled', c: 'cancelled' });
  });

  test('answers true when only dependents were cancelled', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ids = await chain(q);
    await q.call('jobCancel', ids.a, { dependents: false });
    assert.equal(await q.call('jobCancel', ids.a, {}), true);
    assert.deepEqual(await statuses(q, ids), { a: 'cancelled', b: 'cancelled', c: 'cancelled' });
    assert.equal(await q.call('jobCancel', ids.a, {}), false);
  });
});

describe('jobRestart', () => {
  test('restarts cancelled and failed jobs only', async () => {
    assert.deepEqual(await acceptedStatuses('jobRestart'), ['failed', 'cancelled']);
  });

  test('sets waiting, resets progress, adds retries, keeps retried, logs Job Restarted, then promotes', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t').retry({ retries: 0, wait: 0 }));
    const run = await q.claim('t');
    await q.call('jobFail', id, run.runId, {}, {});
    const failed = await q.mustReadJob(id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.retries, 0);
    const now = q.clock.advance(1000);
    assert.equal(await q.call('jobRestart', id, { retries: 2, dependents: true }), true);
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'ready');
    assert.equal(job.retries, 2);
    assert.equal(job.retried, 1);
    assert.equal(job.runId, null);
    assert.deepEqual(job.progress, { completed: 0, total: 1, percent: 0 });
    assert.deepEqual(job.log?.slice(-2), [
      { time: now, runId: null, level: 'info', message: 'Job Restarted' },
      { time: now, runId: null, level: 'info', message: 'Promoted to ready' },
    ]);
    assert.equal(await q.call('jobRestart', id, {}), false);
    assert.equal(await q.call('jobRestart', [], {}), false);
  });

  test('a failed job stays waiting until its after (the retry time set by the failure), as upstream', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t').retry({ retries: 0, wait: 60_000 }));
    const run = await q.claim('t');
    await q.call('jobFail', id, run.runId, {}, {});
    const { after } = await q.mustReadJob(id);
    assert.deepEqual(after, plus(q.clock.now(), 60_000));
    assert.equal(await q.call('jobRestart', id, {}), true);
    assert.equal((await q.mustReadJob(id)).status, 'waiting');
    q.clock.set(after);
    assert.equal(await q.call('jobReady', [], {}), true);
    assert.equal((await q.mustReadJob(id)).status, 'ready');
  });

  test('adds one retry by default, sets retryUntil from until, and caps retries at forever', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t').delay(3_600_000));
    await q.call('jobCancel', id, {});
    const until = plus(q.clock.now(), 86_400_000);
    assert.equal(await q.call('jobRestart', id, { until }), true);
    const job = await q.mustReadJob(id);
    assert.equal(job.status, 'waiting');
    assert.equal(job.retries, 2);
    assert.deepEqual(job.retryUntil, until);
    await q.call('jobCancel', id, {});
    assert.equal(await q.call('jobRestart', id, { retries: 2 ** 60 }), true);
    assert.equal((await q.mustReadJob(id)).retries, forever);
  });

  test('restarts antecedents by default', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('a').retry({ retries: 0, wait: 0 }));
    const b = await q.save(newJob('b').depends([savedJob(a)]));
    const run = await q.claim('a');
    await q.call('jobFail', a, run.runId, {}, {});
    assert.deepEqual(await statuses(q, { a, b }), { a: 'failed', b: 'cancelled' });
    assert.equal(await q.call('jobRestart', b, {}), true);
    assert.deepEqual(await statuses(q, { a, b }), { a: 'ready', b: 'waiting' });
    assert.equal(lastLog(await q.mustReadJob(a)).message, 'Promoted to ready');
    assert.equal(lastLog(await q.mustReadJob(b)).message, 'Job Restarted');
  });

  test('antecedents: false restarts the job alone', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('a'));
    const b = await q.save(newJob('b').depends([savedJob(a)]));
    const run = await q.claim('a');
    await q.call('jobFail', a, run.runId, {}, {});
    assert.equal(await q.call('jobRestart', b, { antecedents: false }), true);
    assert.deepEqual(await statuses(q, { a, b }), { a: 'failed', b: 'waiting' });
  });

  test('dependents are restarted only when asked', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ids = await chain(q);
    await q.call('jobCancel', ids.a, {});
    assert.equal(await q.call('jobRestart', ids.a, {}), true);
    assert.deepEqual(await statuses(q, ids), { a: 'waiting', b: 'cancelled', c: 'cancelled' });
    await q.call('jobCancel', ids.a, {});
    assert.equal(await q.call('jobRestart', ids.a, { dependents: true }), true);
    assert.deepEqual(await statuses(q, ids), { a: 'waiting', b: 'waiting', c: 'waiting' });
  });
});

describe('jobRemove', () => {
  test('removes completed, failed and cancelled jobs only', async () => {
    assert.deepEqual(await acceptedStatuses('jobRemove'), ['completed', 'failed', 'cancelled']);
  });

  test('deletes the job and its log; a list answers true if any was removed', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const cancelled = await q.save(newJob('t'));
    await q.call('jobCancel', cancelled, {});
    const ready = await q.save(newJob('t'));
    assert.equal(await q.call('jobRemove', [cancelled, ready, 'NoSuchJobXXXXXXXX'], {}), true);
    assert.equal(await q.readJob(cancelled), undefined);
    assert.equal(await q.call('getJob', cancelled, { getLog: true }), null);
    assert.equal((await q.mustReadJob(ready)).status, 'ready');
    assert.equal(await q.call('jobRemove', cancelled, {}), false);
    assert.equal(await q.call('jobRemove', [], {}), false);
  });

  test('cancels the dependents it would strand (Cumulus fix of §5.11), cascading', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ids = await chain(q);
    await q.call('jobCancel', ids.a, { dependents: false });
    assert.deepEqual(await statuses(q, ids), { a: 'cancelled', b: 'waiting', c: 'waiting' });
    const now = q.clock.advance(1000);
    assert.equal(await q.call('jobRemove', ids.a, {}), true);
    assert.equal(await q.readJob(ids.a), undefined);
    const b = await q.mustReadJob(ids.b);
    assert.equal(b.status, 'cancelled');
    assert.deepEqual(b.log?.slice(-2), [
      { time: now, runId: null, level: 'warning', message: `Antecedent job ${ids.a} removed` },
      { time: now, runId: null, level: 'warning', message: 'Job Cancelled' },
    ]);
    assert.equal((await q.mustReadJob(ids.c)).status, 'cancelled');
  });

  test('leaves dependents that no longer wait for the removed job', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('a'));
    const b = await q.save(newJob('b').depends([savedJob(a)]));
    const run = await q.claim('a');
    await q.call('jobDone', a, run.runId, {}, {});
    assert.equal(await q.call('jobRemove', a, {}), true);
    const job = await q.mustReadJob(b);
    assert.equal(job.status, 'ready');
    assert.deepEqual(logMessages(job).slice(-2), ['Dependency resolved', 'Promoted to ready']);
  });
});

describe('batch operations: bad input is a 400', () => {
  test('wrong id types, unknown option keys, null options, wrong option types', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t'));
    for (const name of ['jobPause', 'jobResume', 'jobReady', 'jobCancel', 'jobRestart', 'jobRemove'] as const) {
      await q.expectMatchFailed(name, 5, {});
      await q.expectMatchFailed(name, [id, 5], {});
      await q.expectMatchFailed(name, null, {});
      await q.expectMatchFailed(name, { id }, {});
      await q.expectMatchFailed(name);
      await q.expectMatchFailed(name, id, null);
      await q.expectMatchFailed(name, id, { bogus: true });
      await q.expectMatchFailed(name, id, []);
    }
    await q.expectMatchFailed('jobReady', id, { force: 'yes' });
    await q.expectMatchFailed('jobReady', id, { time: Date.now() });
    await q.expectMatchFailed('jobCancel', id, { antecedents: 1 });
    await q.expectMatchFailed('jobCancel', id, { dependents: 'no' });
    await q.expectMatchFailed('jobRestart', id, { retries: -1 });
    await q.expectMatchFailed('jobRestart', id, { retries: 1.5 });
    await q.expectMatchFailed('jobRestart', id, { until: '2030-01-01' });
    await q.expectMatchFailed('jobRestart', id, { dependents: null });
    assert.equal((await q.mustReadJob(id)).status, 'ready');
  });
});
