/** getJob (docs/PROTOCOL.md §2.3): one id or a list, getLog, getFailures, bad input. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ObjectId } from '../../shared/object-id.ts';
import { createJobContext, logMessages, newJob } from '../helpers/job-context.ts';

describe('getJob', () => {
  test('one id: the job without log and failures, or null', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t', { n: 1 }));
    const job = await q.call('getJob', id, { getLog: false });
    assert.ok(job !== null && !Array.isArray(job));
    assert.equal(job._id, id);
    assert.equal(job.type, 't');
    assert.deepEqual(job.data, { n: 1 });
    assert.equal(job.status, 'ready');
    assert.equal('log' in job, false);
    assert.equal('failures' in job, false);
    assert.equal('_private' in job, false);
    assert.deepEqual(await q.call('getJob', id), job);
    assert.equal(await q.call('getJob', 'NoSuchJobXXXXXXXX', {}), null);
    assert.equal(await q.call('getJob', new ObjectId('0123456789abcdef01234567'), {}), null);
  });

  test('a list: the jobs found, missing ids skipped; null when none is found or the list is empty', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = await q.save(newJob('t'));
    const b = await q.save(newJob('t'));
    const found = await q.call('getJob', [a, 'NoSuchJobXXXXXXXX', b], {});
    assert.ok(Array.isArray(found));
    assert.deepEqual(found.map((job) => job._id).sort(), [a, b].sort());
    const one = await q.call('getJob', [a], {});
    assert.ok(Array.isArray(one));
    assert.equal(one.length, 1);
    assert.equal(await q.call('getJob', ['NoSuchJobXXXXXXXX'], {}), null);
    assert.equal(await q.call('getJob', [], {}), null);
  });

  test('getLog adds the log, getFailures the failures', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t').retry({ retries: 1, wait: 0 }));
    const run = await q.claim('t');
    await q.call('jobFail', id, run.runId, { value: 'boom' }, {});
    const withLog = await q.call('getJob', id, { getLog: true });
    assert.ok(withLog !== null && !Array.isArray(withLog));
    assert.deepEqual(logMessages(withLog), ['Constructed', 'Job Submitted', 'Promoted to ready', 'Job Running', 'Job Failed with Error: boom.']);
    assert.equal('failures' in withLog, false);
    const withFailures = await q.call('getJob', [id], { getFailures: true });
    assert.ok(Array.isArray(withFailures));
    assert.deepEqual(withFailures[0]?.failures, [{ value: 'boom', runId: run.runId }]);
    assert.equal('log' in (withFailures[0] ?? {}), false);
    const both = await q.call('getJob', id, { getLog: true, getFailures: true });
    assert.ok(both !== null && !Array.isArray(both));
    assert.equal(both.log?.length, 5);
    assert.equal(both.failures?.length, 1);
  });

  test('bad input is a 400', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t'));
    await q.expectMatchFailed('getJob', 5, {});
    await q.expectMatchFailed('getJob', [id, 5], {});
    await q.expectMatchFailed('getJob', null, {});
    await q.expectMatchFailed('getJob');
    await q.expectMatchFailed('getJob', id, null);
    await q.expectMatchFailed('getJob', id, { bogus: true });
    await q.expectMatchFailed('getJob', id, { getLog: 'yes' });
    await q.expectMatchFailed('getJob', id, { getFailures: 1 });
  });
});
