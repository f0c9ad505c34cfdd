/**
 * The promotion loop (docs/PROTOCOL.md §2.1, §3.7, §5.2): due jobs become ready when they are due, expired
 * leases are failed, and nothing happens while the job server is stopped. Timers are real here, so
 * the context runs on the system clock and the tests wait for conditions.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { systemClock } from '../../server/jobs/context.ts';
import { storeFeed } from '../../server/feed/job-feed.ts';
import { JobServerState } from '../../server/jobs/job-server-state.ts';
import { PromotionScheduler } from '../../server/jobs/scheduler.ts';
import { soleLeadership } from '../../server/store/server-leases.ts';
import { createJobContext, lastLog, logMessages, newJob, savedJob, type TestJobContext } from '../helpers/job-context.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** A real-clock context and its scheduler, stopped and closed after the test. */
async function withScheduler(t: TestContext, promoteIntervalMs: number, options: { stopped?: boolean } = {}) {
  const q = await createJobContext({ clock: systemClock, ...options });
  const scheduler = new PromotionScheduler(q.ctx, storeFeed(q.store), soleLeadership, { promoteIntervalMs });
  t.after(async () => {
    await scheduler.stop();
    await q.close();
  });
  return { q, scheduler };
}

async function statusOf(q: TestJobContext, id: string) {
  return (await q.mustReadJob(id)).status;
}

describe('PromotionScheduler', () => {
  test('a delayed job becomes ready when it is due, long before the periodic pass', async (t) => {
    const { q, scheduler } = await withScheduler(t, 60_000);
    scheduler.start();
    const id = await q.save(newJob('t').delay(100));
    const { after } = await q.mustReadJob(id);
    assert.equal(await statusOf(q, id), 'waiting');
    await waitFor(async () => (await statusOf(q, id)) === 'ready', { timeoutMs: 3000, intervalMs: 5, description: 'the delayed job ready' });
    const promoted = lastLog(await q.mustReadJob(id));
    assert.equal(promoted.message, 'Promoted to ready');
    assert.ok(promoted.time >= after, 'not promoted before it was due');
  });

  test('the earliest due job is promoted first, then the next one', async (t) => {
    const { q, scheduler } = await withScheduler(t, 60_000);
    scheduler.start();
    const later = await q.save(newJob('t').delay(200));
    const sooner = await q.save(newJob('t').delay(50));
    await waitFor(async () => (await statusOf(q, sooner)) === 'ready', { timeoutMs: 3000, description: 'the sooner job ready' });
    await waitFor(async () => (await statusOf(q, later)) === 'ready', { timeoutMs: 3000, description: 'the later job ready' });
    const { after } = await q.mustReadJob(later);
    assert.ok(lastLog(await q.mustReadJob(later)).time >= after);
  });

  test('a retry with wait 0 is promoted at once (the Cumulus fix of §5.2)', async (t) => {
    const { q, scheduler } = await withScheduler(t, 60_000);
    scheduler.start();
    const id = await q.save(newJob('t').retry({ retries: 1, wait: 0 }));
    const run = await q.claim('t');
    assert.equal(await q.call('jobFail', id, run.runId, { value: 'again' }, {}), true);
    await waitFor(async () => (await statusOf(q, id)) === 'ready', { timeoutMs: 3000, description: 'the retry ready' });
    assert.deepEqual(logMessages(await q.mustReadJob(id)).slice(-2), ['Job Failed with Error: again.', 'Promoted to ready']);
    assert.equal((await q.claim('t'))._id, id);
  });

  test('a repeat and a dependent held back by delayDeps are promoted when due', async (t) => {
    const { q, scheduler } = await withScheduler(t, 60_000);
    scheduler.start();
    const id = await q.save(newJob('t').repeat({ repeats: 1, wait: 50 }));
    const dependent = await q.save(newJob('d').depends([savedJob(id)]));
    const run = await q.claim('t');
    const repeatId = await q.call('jobDone', id, run.runId, {}, { repeatId: true, delayDeps: 80 });
    assert.equal(typeof repeatId, 'string');
    assert.equal(await statusOf(q, repeatId as string), 'waiting');
    assert.equal(await statusOf(q, dependent), 'waiting');
    await waitFor(async () => (await statusOf(q, repeatId as string)) === 'ready' && (await statusOf(q, dependent)) === 'ready', {
      timeoutMs: 3000,
      description: 'the repeat and the dependent ready',
    });
    for (const promoted of [repeatId as string, dependent]) {
      const job = await q.mustReadJob(promoted);
      assert.ok(lastLog(job).time >= job.after, `${promoted} not promoted before it was due`);
    }
  });

  test('a pass fails running jobs whose lease expired, non-fatally', async (t) => {
    const { q, scheduler } = await withScheduler(t, 20);
    const last = await q.save(newJob('t'));
    const retrying = await q.save(newJob('t').retry({ retries: 1, wait: 60_000 }));
    const fresh = await q.save(newJob('u'));
    const claimed = await q.call('getWork', ['t'], { maxJobs: 2, workTimeout: 1 });
    assert.equal(claimed.length, 2);
    const runId = claimed[0]?.runId;
    await q.claim('u', { workTimeout: 60_000 });
    scheduler.start();
    await waitFor(async () => (await statusOf(q, last)) !== 'running' && (await statusOf(q, retrying)) !== 'running', {
      timeoutMs: 3000,
      description: 'expired jobs failed',
    });
    const failed = await q.mustReadJob(last);
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.failures, [{ value: 'Failed for exceeding worker set workTimeout', runId }]);
    assert.equal(lastLog(failed).message, 'Job Failed with Fatal Error: Failed for exceeding worker set workTimeout.');
    assert.equal(lastLog(failed).level, 'danger');
    const retried = await q.mustReadJob(retrying);
    assert.equal(retried.status, 'waiting');
    assert.equal(retried.runId, null);
    assert.equal(lastLog(retried).message, 'Job Failed with Error: Failed for exceeding worker set workTimeout.');
    assert.equal(lastLog(retried).level, 'warning');
    assert.equal(await statusOf(q, fresh), 'running');
  });

  test('while stopped nothing is promoted and no lease expires; starting again catches up', async (t) => {
    const { q, scheduler } = await withScheduler(t, 10, { stopped: true });
    const expiring = await q.save(newJob('lease'));
    await q.call('startJobServer', {});
    await q.claim('lease', { workTimeout: 1 });
    await q.call('shutdownJobServer', {});
    // Count the scheduler's looks at the stopped flag once everything is due.
    let dueAt = Number.POSITIVE_INFINITY;
    let checksWhileDue = 0;
    const stoppedOf = Object.getOwnPropertyDescriptor(JobServerState.prototype, 'stopped')?.get;
    assert.ok(stoppedOf !== undefined);
    Object.defineProperty(q.ctx.state, 'stopped', {
      get: () => {
        if (Date.now() > dueAt) checksWhileDue += 1;
        return stoppedOf.call(q.ctx.state) as boolean;
      },
      configurable: true,
    });
    const delayed = await q.save(newJob('t').delay(20));
    dueAt = (await q.mustReadJob(delayed)).after.getTime() + 1;
    scheduler.start();
    await waitFor(() => checksWhileDue >= 5, { timeoutMs: 3000, description: 'several passes skipped while due' });
    assert.equal(await statusOf(q, delayed), 'waiting');
    assert.equal(await statusOf(q, expiring), 'running');
    assert.deepEqual(await q.call('getWork', ['t'], {}), []);

    // Starting the job server runs a pass at once (the interval would catch up too, later).
    assert.equal(await q.call('startJobServer', {}), true);
    await waitFor(async () => (await statusOf(q, delayed)) === 'ready' && (await statusOf(q, expiring)) === 'failed', {
      timeoutMs: 3000,
      description: 'caught up after start',
    });
  });
});
