/**
 * startJobServer / shutdownJobServer and their aliases (docs/PROTOCOL.md §2.1, §2.3, §5.1): the stopped
 * state, and the shutdown deadline that fails the jobs still running.
 */
import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { createJobContext, lastLog, newJob, type TestJobContext } from '../helpers/job-context.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Resolves once every transaction queued before it has committed. */
function settled(q: TestJobContext): Promise<void> {
  return q.store.transaction(async () => undefined);
}

describe('startJobServer', () => {
  test('answers true and leaves the stopped state; start is idempotent', async (t) => {
    const q = await createJobContext({ stopped: true });
    t.after(() => q.close());
    await q.save(newJob('t'));
    assert.deepEqual(await q.call('getWork', ['t'], {}), []);
    assert.equal(await q.call('startJobServer', {}), true);
    assert.equal(q.ctx.state.stopped, false);
    assert.equal(await q.call('startJobServer'), true);
    assert.equal((await q.call('getWork', ['t'], {})).length, 1);
  });

  test('startJobs is the same method', async (t) => {
    const q = await createJobContext({ stopped: true });
    t.after(() => q.close());
    assert.equal(await q.call('startJobs', {}), true);
    assert.equal(q.ctx.state.stopped, false);
  });

  test('bad input is a 400', async (t) => {
    const q = await createJobContext({ stopped: true });
    t.after(() => q.close());
    for (const name of ['startJobServer', 'startJobs'] as const) {
      await q.expectMatchFailed(name, null);
      await q.expectMatchFailed(name, { bogus: true });
      await q.expectMatchFailed(name, 'now');
    }
    assert.equal(q.ctx.state.stopped, true);
  });
});

describe('shutdownJobServer', () => {
  test('stops at once: getWork answers [] and jobProgress null; everything else still works', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const running = await q.save(newJob('t'));
    const run = await q.claim('t');
    const ready = await q.save(newJob('t'));
    assert.equal(await q.call('shutdownJobServer', { timeout: 60_000 }), true);
    assert.equal(q.ctx.state.stopped, true);
    assert.deepEqual(await q.call('getWork', ['t'], { maxJobs: 5 }), []);
    assert.equal((await q.mustReadJob(ready)).status, 'ready');
    assert.equal(await q.call('jobProgress', running, run.runId, 1, 2, {}), null);
    assert.equal(await q.call('jobLog', running, run.runId, 'still here', {}), true);
    const saved = await q.save(newJob('u'));
    assert.equal((await q.mustReadJob(saved)).status, 'ready');
    assert.equal(await q.call('jobPause', saved, {}), true);
    assert.equal(await q.call('jobDone', running, run.runId, { ok: 1 }, {}), true);
    assert.equal((await q.mustReadJob(running)).status, 'completed');
  });

  test('after the timeout, fails every job still running, non-fatally (the Cumulus fix of §5.1)', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const retrying = await q.save(newJob('t').retry({ retries: 1, wait: 0 }));
    const last = await q.save(newJob('t'));
    const claimed = await q.call('getWork', ['t'], { maxJobs: 2 });
    assert.equal(claimed.length, 2);
    const runId = claimed[0]?.runId;
    const ready = await q.save(newJob('t'));
    assert.equal(await q.call('shutdownJobServer', { timeout: 20 }), true);
    await waitFor(async () => (await q.snapshot()).every((job) => job.status !== 'running'), {
      timeoutMs: 2000,
      intervalMs: 5,
      description: 'running jobs failed at shutdown',
    });
    const retried = await q.mustReadJob(retrying);
    assert.equal(retried.status, 'waiting');
    assert.equal(retried.runId, null);
    assert.deepEqual(retried.failures, [{ value: 'Running at Job Server shutdown.', runId }]);
    // The format `Job Failed with Error: <value>.` applied to a value that ends with its own period.
    assert.equal(lastLog(retried).message, 'Job Failed with Error: Running at Job Server shutdown..');
    assert.equal(lastLog(retried).level, 'warning');
    assert.equal(lastLog(retried).runId, runId);
    const failed = await q.mustReadJob(last);
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.failures, [{ value: 'Running at Job Server shutdown.', runId }]);
    assert.equal(lastLog(failed).message, 'Job Failed with Fatal Error: Running at Job Server shutdown..');
    assert.equal(lastLog(failed).level, 'danger');
    assert.equal((await q.mustReadJob(ready)).status, 'ready');
    assert.equal(q.ctx.state.shutdownPending, false);
  });

  test('the timeout defaults to 60 s', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t'));
    await q.claim('t');
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    assert.equal(await q.call('shutdownJobServer', {}), true);
    mock.timers.tick(59_999);
    // The deadline clears the timer as it fires.
    assert.equal(q.ctx.state.shutdownPending, true);
    mock.timers.tick(1);
    assert.equal(q.ctx.state.shutdownPending, false);
    mock.timers.reset();
    await settled(q);
    assert.equal((await q.mustReadJob(id)).status, 'failed');
  });

  test('startJobServer before the deadline cancels it', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t'));
    await q.claim('t');
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    assert.equal(await q.call('stopJobs', { timeout: 1000 }), true);
    assert.equal(await q.call('startJobServer', {}), true);
    assert.equal(q.ctx.state.shutdownPending, false);
    mock.timers.tick(10_000);
    mock.timers.reset();
    await settled(q);
    assert.equal((await q.mustReadJob(id)).status, 'running');
  });

  test('a second shutdown replaces the first deadline', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const id = await q.save(newJob('t'));
    await q.claim('t');
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    await q.call('shutdownJobServer', { timeout: 1000 });
    await q.call('shutdownJobServer', { timeout: 5000 });
    mock.timers.tick(4999);
    mock.timers.reset();
    await settled(q);
    assert.equal((await q.mustReadJob(id)).status, 'running');
    assert.equal(q.ctx.state.shutdownPending, true);
  });

  test('stopJobs is the same method', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    assert.equal(await q.call('stopJobs', { timeout: 60_000 }), true);
    assert.equal(q.ctx.state.stopped, true);
    assert.equal(q.ctx.state.shutdownPending, true);
  });

  test('bad input is a 400', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    for (const name of ['shutdownJobServer', 'stopJobs'] as const) {
      await q.expectMatchFailed(name, null);
      await q.expectMatchFailed(name, { timeout: 0 });
      await q.expectMatchFailed(name, { timeout: 1.5 });
      await q.expectMatchFailed(name, { timeout: '60000' });
      await q.expectMatchFailed(name, { bogus: true });
    }
    assert.equal(q.ctx.state.stopped, false);
    assert.equal(q.ctx.state.shutdownPending, false);
  });
});
