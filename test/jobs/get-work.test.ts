/** getWork (docs/PROTOCOL.md §2.3, §3.7): claiming ready jobs, claim order, maxJobs, runIds, leases, stopped state. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createJobContext, lastLog, logMessages, newJob, plus, savedJob } from '../helpers/job-context.ts';

describe('getWork: claiming', () => {
  test('answers an empty array when there is no work', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    assert.deepEqual(await q.call('getWork', ['t'], {}), []);
    assert.deepEqual(await q.call('getWork', 't'), []);
    assert.deepEqual(await q.call('getWork', [], {}), []);
  });

  test('claims a ready job: running, new runId, retries-1, retried+1, Job Running logged', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t', { n: 1 }).retry(2));
    q.clock.advance(1000);
    const now = q.clock.now();
    const claimed = await q.call('getWork', ['t'], {});
    assert.equal(claimed.length, 1);
    const [job] = claimed;
    assert.ok(job !== undefined);
    assert.equal(job._id, id);
    assert.equal(job.type, 't');
    assert.deepEqual(job.data, { n: 1 });
    assert.equal(job.status, 'running');
    assert.match(job.runId ?? '', /^[23456789A-HJ-NP-Za-km-z]{17}$/);
    assert.equal(job.retries, 2);
    assert.equal(job.retried, 1);
    assert.deepEqual(job.updated, now);
    assert.equal('log' in job, false);
    assert.equal('failures' in job, false);
    assert.equal('workTimeout' in job, false);
    assert.equal('expiresAfter' in job, false);
    const stored = await q.mustReadJob(id);
    assert.equal(stored.status, 'running');
    assert.equal(stored.runId, job.runId);
    assert.equal(stored.retries, 2);
    assert.equal(stored.retried, 1);
    assert.deepEqual(lastLog(stored), { time: now, runId: job.runId, level: 'info', message: 'Job Running' });
    // A claimed job is claimed once.
    assert.deepEqual(await q.call('getWork', ['t'], {}), []);
  });

  test('accepts the type as a string or a list, and claims only those types', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('a'));
    const b = await q.save(newJob('b'));
    await q.save(newJob('c'));
    assert.deepEqual((await q.call('getWork', 'a')).map((job) => job._id), [a]);
    assert.deepEqual((await q.call('getWork', ['x', 'b'], { maxJobs: 5 })).map((job) => job._id), [b]);
    assert.deepEqual(await q.call('getWork', ['a', 'b'], { maxJobs: 5 }), []);
  });

  test('never claims waiting, paused, delayed or dependent jobs', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const delayed = await q.save(newJob('t').delay(60_000));
    const pausedDoc = newJob('t').doc;
    pausedDoc.status = 'paused';
    await q.save(pausedDoc);
    await q.save(newJob('t').depends([savedJob(delayed)]));
    assert.deepEqual(await q.call('getWork', ['t'], { maxJobs: 10 }), []);
  });

  test('answers [] and claims nothing while the server is stopped', async (t) => {
    const q = await createJobContext({ stopped: true });
    t.after(() => q.close());
    await q.save(newJob('t'));
    const before = await q.snapshot();
    assert.deepEqual(await q.call('getWork', ['t'], { maxJobs: 5 }), []);
    assert.deepEqual(await q.snapshot(), before);
  });
});

describe('getWork: order', () => {
  test('lower priority value first', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const low = await q.save(newJob('t').priority('low'));
    const normal = await q.save(newJob('t'));
    const critical = await q.save(newJob('t').priority('critical'));
    const high = await q.save(newJob('t').priority(-10));
    const order = [];
    for (let i = 0; i < 4; i += 1) order.push((await q.claim('t'))._id);
    assert.deepEqual(order, [critical, high, normal, low]);
  });

  test('then the earlier retryUntil, then the earlier after, then insertion order', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const now = q.clock.now();
    // The same priority, retryUntil and after: insertion order.
    const first = await q.save(newJob('t'));
    const second = await q.save(newJob('t'));
    q.clock.advance(10);
    const laterAfter = await q.save(newJob('t'));
    const earliestRetryUntil = await q.save(newJob('t').retry({ retries: 1, until: plus(now, 3_600_000) }));
    // The `after` of a job promoted by id is the promotion time.
    const latestAfter = await q.save(newJob('t'));
    await q.call('jobPause', latestAfter, {});
    q.clock.advance(10);
    await q.call('jobResume', latestAfter, {});
    assert.deepEqual((await q.mustReadJob(latestAfter)).after, q.clock.now());
    const claimed = await q.call('getWork', ['t'], { maxJobs: 5 });
    assert.deepEqual(claimed.map((job) => job._id), [earliestRetryUntil, first, second, laterAfter, latestAfter]);
  });
});

describe('getWork: ties', () => {
  test('with equal priority, retryUntil and after: the earlier created first, before insertion order', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const t1 = q.clock.now();
    const t2 = plus(t1, 1000);
    q.clock.set(t2);
    const createdLater = await q.save(newJob('t'));
    q.clock.set(t1);
    const createdEarlier = await q.save(newJob('t').after(t2));
    q.clock.set(t2);
    assert.equal(await q.call('jobReady', [], {}), true);
    assert.deepEqual((await q.mustReadJob(createdEarlier)).after, (await q.mustReadJob(createdLater)).after);
    const claimed = await q.call('getWork', ['t'], { maxJobs: 2 });
    assert.deepEqual(claimed.map((job) => job._id), [createdEarlier, createdLater]);
  });
});

describe('getWork: several types', () => {
  test('one claim order across the types asked for', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('a'));
    const b = await q.save(newJob('b').priority('critical'));
    const c = await q.save(newJob('c').priority('low'));
    const a2 = await q.save(newJob('a').priority('high'));
    const claimed = await q.call('getWork', ['a', 'b', 'c'], { maxJobs: 3 });
    assert.deepEqual(claimed.map((job) => job._id), [b, a2, a]);
    assert.equal((await q.mustReadJob(c)).status, 'ready');
  });
});

describe('getWork: maxJobs and runIds', () => {
  test('concurrent calls never claim a job twice', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    for (let i = 0; i < 5; i += 1) await q.save(newJob('t'));
    const batches = await Promise.all([1, 2, 3].map(() => q.call('getWork', ['t'], { maxJobs: 2 })));
    const ids = batches.flat().map((job) => job._id);
    assert.equal(ids.length, 5);
    assert.equal(new Set(ids).size, 5);
    assert.equal(new Set(batches.flat().map((job) => job.runId)).size, 3);
  });

  test('claims up to maxJobs under one runId per call', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    for (let i = 0; i < 5; i += 1) await q.save(newJob('t'));
    const first = await q.call('getWork', ['t'], { maxJobs: 3 });
    assert.equal(first.length, 3);
    assert.equal(new Set(first.map((job) => job.runId)).size, 1);
    const second = await q.call('getWork', ['t'], { maxJobs: 3 });
    assert.equal(second.length, 2);
    assert.equal(new Set(second.map((job) => job.runId)).size, 1);
    assert.notEqual(second[0]?.runId, first[0]?.runId);
    for (const job of [...first, ...second]) {
      assert.equal((await q.mustReadJob(job._id)).runId, job.runId);
    }
  });

  test('claims one job without maxJobs', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    await q.save(newJob('t'));
    await q.save(newJob('t'));
    assert.equal((await q.call('getWork', ['t'], {})).length, 1);
    assert.equal((await q.call('getWork', ['t'])).length, 1);
  });
});

describe('getWork: workTimeout', () => {
  test('sets workTimeout and expiresAfter = now + workTimeout', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t'));
    const now = q.clock.now();
    const job = await q.claim('t', { workTimeout: 5000 });
    assert.equal(job.workTimeout, 5000);
    assert.deepEqual(job.expiresAfter, plus(now, 5000));
    const stored = await q.mustReadJob(id);
    assert.equal(stored.workTimeout, 5000);
    assert.deepEqual(stored.expiresAfter, plus(now, 5000));
  });

  test('unsets both on a claim without workTimeout', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t').retry({ retries: 1, wait: 0 }));
    const first = await q.claim('t', { workTimeout: 5000 });
    assert.equal(await q.call('jobFail', id, first.runId, { value: 'again' }, {}), true);
    assert.equal(await q.call('jobReady', id, {}), true);
    const second = await q.claim('t');
    assert.equal('workTimeout' in second, false);
    assert.equal('expiresAfter' in second, false);
    const stored = await q.mustReadJob(id);
    assert.equal(stored.workTimeout, undefined);
    assert.equal(stored.expiresAfter, undefined);
    assert.deepEqual(logMessages(stored).filter((m) => m === 'Job Running').length, 2);
  });
});

describe('getWork: bad input is a 400', () => {
  test('wrong types, unknown keys, null options', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    await q.save(newJob('t'));
    await q.expectMatchFailed('getWork', 5, {});
    await q.expectMatchFailed('getWork', ['t', 5], {});
    await q.expectMatchFailed('getWork', null, {});
    await q.expectMatchFailed('getWork');
    await q.expectMatchFailed('getWork', ['t'], null);
    await q.expectMatchFailed('getWork', ['t'], { bogus: 1 });
    await q.expectMatchFailed('getWork', ['t'], { maxJobs: 0 });
    await q.expectMatchFailed('getWork', ['t'], { maxJobs: 1.5 });
    await q.expectMatchFailed('getWork', ['t'], { maxJobs: '2' });
    await q.expectMatchFailed('getWork', ['t'], { workTimeout: 0 });
    await q.expectMatchFailed('getWork', ['t'], { workTimeout: 10.5 });
    assert.equal((await q.snapshot())[0]?.status, 'ready');
  });
});
