/** jobSave (docs/PROTOCOL.md §2.3, §3.1, §3.6): new jobs, normalization, schedules, dependencies, re-saving, bad input. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import later from '@breejs/later';
import { forever, foreverDate } from '../../shared/constants.ts';
import { clientJob, createJobContext, lastLog, logMessages, newJob, plus, savedJob } from '../helpers/job-context.ts';

const everyFiveMinutes = later.parse.text('every 5 mins');

describe('jobSave: a new job', () => {
  test('stores what meteor-job sends, with server times, and promotes it at once', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const job = newJob('email', { to: 'a@b.c' }).priority('high').retry({ retries: 2, wait: 1000, backoff: 'exponential' });
    const now = q.clock.now();
    const id = await q.call('jobSave', job.doc, {});
    assert.equal(typeof id, 'string');
    assert.match(id ?? '', /^[23456789A-HJ-NP-Za-km-z]{17}$/);
    const saved = await q.mustReadJob(id ?? '');
    assert.equal(saved._id, id);
    assert.equal(saved.type, 'email');
    assert.deepEqual(saved.data, { to: 'a@b.c' });
    assert.equal(saved.status, 'ready');
    assert.equal(saved.runId, null);
    assert.equal(saved.priority, -10);
    assert.equal(saved.retries, 3);
    assert.equal(saved.repeatRetries, 3);
    assert.equal(saved.retried, 0);
    assert.equal(saved.retryWait, 1000);
    assert.equal(saved.retryBackoff, 'exponential');
    assert.deepEqual(saved.retryUntil, foreverDate);
    assert.equal(saved.repeats, 0);
    assert.equal(saved.repeated, 0);
    assert.equal(saved.repeatWait, 5 * 60 * 1000);
    assert.deepEqual(saved.repeatUntil, foreverDate);
    assert.deepEqual(saved.depends, []);
    assert.deepEqual(saved.resolved, []);
    assert.deepEqual(saved.progress, { completed: 0, total: 1, percent: 0 });
    // The client's epoch `after` means now; `created` and `updated` are server time.
    assert.deepEqual(saved.after, now);
    assert.deepEqual(saved.created, now);
    assert.deepEqual(saved.updated, now);
    assert.deepEqual(logMessages(saved), ['Constructed', 'Job Submitted', 'Promoted to ready']);
    const [, submitted, promoted] = saved.log ?? [];
    assert.deepEqual(submitted, { time: now, runId: null, level: 'info', message: 'Job Submitted' });
    assert.deepEqual(promoted, { time: now, runId: null, level: 'info', message: 'Promoted to ready' });
  });

  test('keeps a paused job paused and a delayed job waiting', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const pausedDoc = newJob('t').doc;
    pausedDoc.status = 'paused';
    const paused = await q.mustReadJob(await q.save(pausedDoc));
    assert.equal(paused.status, 'paused');
    assert.deepEqual(logMessages(paused), ['Constructed', 'Job Submitted']);

    const delayedDoc = newJob('t').delay(60_000).doc;
    const delayed = await q.mustReadJob(await q.save(delayedDoc));
    assert.equal(delayed.status, 'waiting');
    assert.deepEqual(delayed.after, delayedDoc.after);
    assert.deepEqual(logMessages(delayed), ['Constructed', 'Job Submitted']);
  });

  test('moves past after, retryUntil and repeatUntil to now', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const now = q.clock.now();
    const past = plus(now, -3_600_000);
    const doc = newJob('t').after(past).retry({ retries: 1, until: past }).repeat({ repeats: 1, until: past }).doc;
    doc.status = 'paused';
    const saved = await q.mustReadJob(await q.save(doc));
    assert.deepEqual(saved.after, now);
    assert.deepEqual(saved.retryUntil, now);
    assert.deepEqual(saved.repeatUntil, now);
  });

  test('caps retries and repeats at forever', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const doc = newJob('t').doc;
    doc.retries = 2 ** 60;
    doc.repeats = 2 ** 60;
    const saved = await q.mustReadJob(await q.save(doc));
    assert.equal(saved.retries, forever);
    assert.equal(saved.repeats, forever);
  });

  test('treats _id: null as a new job', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const doc = { ...newJob('t').doc, _id: null };
    const id = await q.save(doc);
    assert.equal((await q.mustReadJob(id)).status, 'ready');
    assert.equal((await q.snapshot()).length, 1);
  });

  test('keeps a log entry with data that the client wrote before saving', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const job = newJob('t');
    job.doc.log = [{ time: new Date(0), runId: null, level: 'warning', message: 'before', data: { n: 1 } }];
    const saved = await q.mustReadJob(await q.save(job));
    assert.deepEqual(saved.log?.[0], { time: new Date(0), runId: null, level: 'warning', message: 'before', data: { n: 1 } });
  });

  test('saves a doc without a log (treated as an empty log)', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { log: _log, ...doc } = newJob('t').doc;
    const saved = await q.mustReadJob(await q.save(doc));
    assert.deepEqual(logMessages(saved), ['Job Submitted', 'Promoted to ready']);
  });
});

describe('jobSave: cancelRepeats', () => {
  async function withJobsOfEveryStatus(q: Awaited<ReturnType<typeof createJobContext>>) {
    const running = await q.save(newJob('tick'));
    await q.claim('tick');
    const ready = await q.save(newJob('tick'));
    const waiting = await q.save(newJob('tick').delay(60_000));
    const pausedDoc = newJob('tick').doc;
    pausedDoc.status = 'paused';
    const paused = await q.save(pausedDoc);
    const completed = await q.save(newJob('tick').priority('critical'));
    const claimed = await q.claim('tick');
    assert.equal(claimed._id, completed);
    assert.equal(await q.call('jobDone', completed, claimed.runId, {}, {}), true);
    const other = await q.save(newJob('other'));
    return { running, ready, waiting, paused, completed, other };
  }

  test('with repeats forever, cancels every cancellable job of the type, running ones included', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ids = await withJobsOfEveryStatus(q);
    const id = await q.save(newJob('tick').repeat({ wait: 60_000 }), { cancelRepeats: true });
    for (const cancelled of [ids.running, ids.ready, ids.waiting, ids.paused]) {
      const job = await q.mustReadJob(cancelled);
      assert.equal(job.status, 'cancelled');
      assert.equal(lastLog(job).message, 'Job Cancelled');
    }
    assert.equal((await q.mustReadJob(ids.completed)).status, 'completed');
    assert.equal((await q.mustReadJob(ids.other)).status, 'ready');
    assert.equal((await q.mustReadJob(id)).status, 'ready');
  });

  test('does nothing without the option, or when repeats is not forever', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const ids = await withJobsOfEveryStatus(q);
    await q.save(newJob('tick').repeat({ wait: 60_000 }));
    await q.save(newJob('tick').repeat({ repeats: 5, wait: 60_000 }), { cancelRepeats: true });
    assert.equal((await q.mustReadJob(ids.running)).status, 'running');
    assert.equal((await q.mustReadJob(ids.ready)).status, 'ready');
    assert.equal((await q.mustReadJob(ids.waiting)).status, 'waiting');
    assert.equal((await q.mustReadJob(ids.paused)).status, 'paused');
  });
});

describe('jobSave: a later.js schedule as repeatWait', () => {
  test('starts at the first occurrence after the last one at or before after', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    q.clock.set(new Date('2030-01-01T00:02:30Z'));
    const id = await q.save(newJob('cron').repeat({ schedule: everyFiveMinutes }));
    const saved = await q.mustReadJob(id);
    assert.equal(saved.status, 'waiting');
    assert.deepEqual(saved.after, new Date('2030-01-01T00:05:00Z'));
    assert.deepEqual(saved.repeatWait, { schedules: everyFiveMinutes.schedules, exceptions: [] });
  });

  test('skips an occurrence that is exactly now (upstream takes the second of next(2, prev(1)))', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    q.clock.set(new Date('2030-01-01T00:05:00Z'));
    const saved = await q.mustReadJob(await q.save(newJob('cron').repeat({ schedule: everyFiveMinutes })));
    assert.deepEqual(saved.after, new Date('2030-01-01T00:10:00Z'));
  });

  test('counts from a future after', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    q.clock.set(new Date('2030-01-01T00:02:30Z'));
    const job = newJob('cron').repeat({ schedule: everyFiveMinutes }).after(new Date('2030-01-01T01:01:00Z'));
    const saved = await q.mustReadJob(await q.save(job));
    assert.deepEqual(saved.after, new Date('2030-01-01T01:05:00Z'));
  });

  test('saves nothing and returns null when the first occurrence is after repeatUntil', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    q.clock.set(new Date('2030-01-01T00:02:30Z'));
    const job = newJob('cron').repeat({ schedule: everyFiveMinutes, until: new Date('2030-01-01T00:04:59Z') });
    assert.equal(await q.call('jobSave', job.doc, {}), null);
    assert.deepEqual(await q.snapshot(), []);
  });

  test('accepts a first occurrence exactly at repeatUntil', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    q.clock.set(new Date('2030-01-01T00:02:30Z'));
    const job = newJob('cron').repeat({ schedule: everyFiveMinutes, until: new Date('2030-01-01T00:05:00Z') });
    const saved = await q.mustReadJob(await q.save(job));
    assert.deepEqual(saved.after, new Date('2030-01-01T00:05:00Z'));
  });

  test('saves nothing and returns null when the schedule has no further occurrence', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    q.clock.set(new Date('2030-01-01T00:02:30Z'));
    const job = newJob('cron').repeat({ schedule: { schedules: [{ Y: [2020] }] } });
    assert.equal(await q.call('jobSave', job.doc, {}), null);
    assert.deepEqual(await q.snapshot(), []);
  });
});

describe('jobSave: dependencies at save (§3.6)', () => {
  test('a completed antecedent is resolved, with the dependency in the log data, and the job promoted', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const antecedent = await q.save(newJob('a'));
    const run = await q.claim('a');
    await q.call('jobDone', antecedent, run.runId, {}, {});
    const id = await q.save(newJob('b').depends([savedJob(antecedent)]));
    const saved = await q.mustReadJob(id);
    assert.equal(saved.status, 'ready');
    assert.deepEqual(saved.depends, []);
    assert.deepEqual(saved.resolved, [antecedent]);
    assert.deepEqual(logMessages(saved), ['Constructed', 'Job Submitted', 'Dependency resolved', 'Promoted to ready']);
    const resolved = saved.log?.[2];
    assert.equal(resolved?.level, 'info');
    assert.equal(resolved?.runId, null);
    assert.deepEqual(resolved?.data, { dependency: { id: antecedent, runId: run.runId } });
  });

  test('a pending antecedent keeps the job waiting', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const done = await q.save(newJob('a'));
    const run = await q.claim('a');
    await q.call('jobDone', done, run.runId, {}, {});
    const pending = await q.save(newJob('a').delay(60_000));
    const id = await q.save(newJob('b').depends([savedJob(done), savedJob(pending)]));
    const saved = await q.mustReadJob(id);
    assert.equal(saved.status, 'waiting');
    assert.deepEqual(saved.depends, [pending]);
    assert.deepEqual(saved.resolved, [done]);
  });

  for (const [status, message] of [
    ['missing', 'Antecedent job %s missing at save'],
    ['failed', 'Antecedent job failed before save'],
    ['cancelled', 'Antecedent job cancelled before save'],
  ] as const) {
    test(`a ${status} antecedent cancels the job and jobSave answers null`, async (t) => {
      const q = await createJobContext();
      t.after(() => q.close());
      let antecedent = 'NoSuchJobXXXXXXXX';
      if (status !== 'missing') {
        antecedent = await q.save(newJob('a'));
        if (status === 'failed') {
          const run = await q.claim('a');
          await q.call('jobFail', antecedent, run.runId, { value: 'boom' }, { fatal: true });
        } else {
          await q.call('jobCancel', antecedent, {});
        }
        assert.equal((await q.mustReadJob(antecedent)).status, status);
      }
      assert.equal(await q.call('jobSave', newJob('b').depends([savedJob(antecedent)]).doc, {}), null);
      const [saved] = (await q.snapshot()).filter((job) => job.type === 'b');
      assert.ok(saved !== undefined, 'the job is stored, then cancelled');
      assert.equal(saved.status, 'cancelled');
      assert.deepEqual(logMessages(saved), ['Constructed', 'Job Submitted', message.replace('%s', antecedent), 'Job Cancelled']);
      assert.equal(saved.log?.[2]?.level, 'info');
      assert.equal(saved.log?.[3]?.level, 'warning');
    });
  }
});

describe('jobSave: re-saving a paused job', () => {
  test('updates the job, logs Job Resubmitted and promotes it', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const doc = newJob('t', { v: 1 }).doc;
    doc.status = 'paused';
    const id = await q.save(doc);
    const fetched = await q.call('getJob', id, { getLog: false });
    assert.ok(fetched !== null && !Array.isArray(fetched));
    q.clock.advance(1000);
    const job = clientJob(fetched).priority('low').retry({ retries: 4, wait: 10 });
    job.doc.data = { v: 2 };
    job.doc.status = 'paused';
    assert.equal(await q.call('jobSave', job.doc, {}), id);
    const saved = await q.mustReadJob(id);
    assert.equal(saved.status, 'ready');
    assert.deepEqual(saved.data, { v: 2 });
    assert.equal(saved.priority, 10);
    assert.equal(saved.retries, 5);
    assert.equal(saved.repeatRetries, 5);
    assert.equal(saved.retryWait, 10);
    assert.deepEqual(saved.updated, q.clock.now());
    assert.deepEqual(logMessages(saved), ['Constructed', 'Job Submitted', 'Job Resubmitted', 'Promoted to ready']);
    assert.equal((await q.snapshot()).length, 1);
  });

  test('without repeatRetries, stores retries + retried', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const doc = newJob('t').doc;
    doc.status = 'paused';
    const id = await q.save(doc);
    const resent: Record<string, unknown> = { ...doc, _id: id, retries: 3, retried: 2 };
    delete resent.repeatRetries;
    assert.equal(await q.call('jobSave', resent, {}), id);
    assert.equal((await q.mustReadJob(id)).repeatRetries, 5);
  });

  test('answers null and changes nothing unless the job is paused', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const doc = newJob('t').doc;
    const id = await q.save(doc);
    const before = await q.snapshot();
    assert.equal(await q.call('jobSave', { ...doc, _id: id, status: 'paused' }, {}), null);
    assert.deepEqual(await q.snapshot(), before);
  });

  test('answers null and inserts nothing for an unknown _id', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    assert.equal(await q.call('jobSave', { ...newJob('t').doc, _id: 'NoSuchJobXXXXXXXX' }, {}), null);
    assert.deepEqual(await q.snapshot(), []);
  });

  test('runs the dependency check: a failed antecedent cancels the re-saved job', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const antecedent = await q.save(newJob('a'));
    const run = await q.claim('a');
    await q.call('jobFail', antecedent, run.runId, {}, { fatal: true });
    const doc = newJob('t').doc;
    doc.status = 'paused';
    const id = await q.save(doc);
    const resent = { ...newJob('t').depends([savedJob(antecedent)]).doc, _id: id, status: 'paused' };
    assert.equal(await q.call('jobSave', resent, {}), null);
    const saved = await q.mustReadJob(id);
    assert.equal(saved.status, 'cancelled');
    assert.deepEqual(logMessages(saved).slice(-3), ['Job Resubmitted', 'Antecedent job failed before save', 'Job Cancelled']);
  });
});

describe('jobSave: bad input is a 400 and writes nothing', () => {
  test('a status other than waiting or paused', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    for (const status of ['ready', 'running', 'completed', 'failed', 'cancelled', 'bogus']) {
      await q.expectMatchFailed('jobSave', { ...newJob('t').doc, status }, {});
    }
    assert.deepEqual(await q.snapshot(), []);
  });

  test('an unknown key, a missing key or a wrongly typed field', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { retryWait: _missing, ...withoutRetryWait } = newJob('t').doc;
    const bad: Record<string, unknown>[] = [
      { ...newJob('t').doc, bogus: 1 },
      withoutRetryWait,
      { ...newJob('t').doc, type: 5 },
      { ...newJob('t').doc, data: [] },
      { ...newJob('t').doc, data: null },
      { ...newJob('t').doc, priority: 1.5 },
      { ...newJob('t').doc, priority: 2 ** 31 },
      { ...newJob('t').doc, retries: -1 },
      { ...newJob('t').doc, retryWait: 0.5 },
      { ...newJob('t').doc, retryBackoff: 'linear' },
      { ...newJob('t').doc, after: '2030-01-01' },
      { ...newJob('t').doc, depends: [5] },
      { ...newJob('t').doc, workTimeout: 0 },
      { ...newJob('t').doc, progress: { completed: 0, total: 1 } },
      { ...newJob('t').doc, log: [{ time: new Date(), runId: null, level: 'debug', message: 'x' }] },
      { ...newJob('t').doc, repeatWait: 'every 5 mins' },
      { ...newJob('t').doc, repeatWait: { schedules: 'x' } },
      { ...newJob('t').doc, _id: 7 },
    ];
    for (const doc of bad) await q.expectMatchFailed('jobSave', doc, {});
    assert.deepEqual(await q.snapshot(), []);
  });

  test('a doc that is not an object, an unknown option, or null options', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    await q.expectMatchFailed('jobSave', 'doc', {});
    await q.expectMatchFailed('jobSave');
    await q.expectMatchFailed('jobSave', newJob('t').doc, { bogus: true });
    await q.expectMatchFailed('jobSave', newJob('t').doc, { cancelRepeats: 'yes' });
    await q.expectMatchFailed('jobSave', newJob('t').doc, null);
    assert.deepEqual(await q.snapshot(), []);
  });
});

describe('jobSave: a client-chosen id (docs/PROTOCOL.md §7.10)', () => {
  test('saves the job under that id; saving again with it answers the same id and saves nothing', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const job = newJob('once', { n: 1 });
    assert.equal(await q.call('jobSave', job.doc, { id: 'client_id_0001' }), 'client_id_0001');
    const before = await q.snapshot();
    assert.equal(await q.call('jobSave', job.doc, { id: 'client_id_0001' }), 'client_id_0001');
    assert.deepEqual(await q.snapshot(), before, 'the repeated save wrote nothing');
  });

  test('refuses an id another type already uses, and a doc that is a re-save as well', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    await q.call('jobSave', newJob('one').doc, { id: 'client_id_0002' });
    await assert.rejects(q.call('jobSave', newJob('other').doc, { id: 'client_id_0002' }), { error: 409, reason: 'Job id already used' });
    await q.expectMatchFailed('jobSave', { ...savedJob('abc').doc, type: 't' }, { id: 'client_id_0003' });
    await q.expectMatchFailed('jobSave', newJob('t').doc, { id: 'short' });
  });

  test('jobSaveMany takes one id per doc, and a repeat answers the same ids', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const docs = [newJob('many').doc, newJob('many').doc];
    const ids = ['client_id_000a', 'client_id_000b'];
    assert.deepEqual(await q.call('jobSaveMany', docs, { ids }), ids);
    assert.deepEqual(await q.call('jobSaveMany', docs, { ids }), ids);
    assert.equal((await q.snapshot()).length, 2);
    await q.expectMatchFailed('jobSaveMany', docs, { ids: ['client_id_000c'] });
  });
});

describe('jobSave: the Cumulus fields of a document', () => {
  test('keeps a name; ignores chain, parent and worker, which only the server writes', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const doc = { ...newJob('named').doc, name: 'user1', chain: { id: 'x', index: 0, length: 1 }, parent: 'p', worker: { name: 'w', connection: 'c' } };
    const id = await q.call('jobSave', doc, {});
    const saved = await q.mustReadJob(id ?? '');
    assert.equal(saved.name, 'user1');
    assert.equal(saved.chain, undefined);
    assert.equal(saved.parent, undefined);
    assert.equal(saved.worker, undefined);
  });
});
