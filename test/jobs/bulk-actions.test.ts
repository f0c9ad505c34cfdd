// jobBulk: an admin action on everything a typed filter selects, counted first, applied in
// batches with the single actions' rules, logs and cascades.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bulkBatchSize } from '../../server/jobs/bulk-actions.ts';
import { CumulusError } from '../../shared/errors.ts';
import { createJobContext, newJob, savedJob, type TestJobContext } from '../helpers/job-context.ts';

async function saveMany(q: TestJobContext, type: string, count: number): Promise<string[]> {
  const docs = Array.from({ length: count }, (_, n) => newJob(type, { n }).doc);
  return (await q.call('jobSaveMany', docs)) as string[];
}

async function statuses(q: TestJobContext, ids: readonly string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await q.mustReadJob(id)).status));
}

describe('jobBulk', () => {
  test('counts first without writing, then pauses and resumes a whole type, leaving other types alone', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const mail = await saveMany(q, 'mail', 3);
    const other = await saveMany(q, 'report', 2);
    assert.deepEqual(await q.call('jobBulk', 'pause', { types: ['mail'] }, { dryRun: true }), { matched: 3, changed: 0 });
    assert.deepEqual(await statuses(q, mail), ['ready', 'ready', 'ready'], 'a dry run writes nothing');

    assert.deepEqual(await q.call('jobBulk', 'pause', { types: ['mail'] }), { matched: 3, changed: 3 });
    assert.deepEqual(await statuses(q, mail), ['paused', 'paused', 'paused']);
    assert.deepEqual(await statuses(q, other), ['ready', 'ready']);
    assert.equal((await q.mustReadJob(mail[0] as string)).log?.at(-1)?.message, 'Job Paused');

    assert.deepEqual(await q.call('jobBulk', 'resume', { types: ['mail'] }), { matched: 3, changed: 3 });
    assert.deepEqual(await statuses(q, mail), ['ready', 'ready', 'ready']);
  });

  test('works through more jobs than one batch holds', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const count = bulkBatchSize * 2 + 37;
    for (let saved = 0; saved < count; saved += 1000) await saveMany(q, 'many', Math.min(1000, count - saved));
    assert.deepEqual(await q.call('jobBulk', 'cancel', { types: ['many'] }), { matched: count, changed: count });
    assert.deepEqual(await q.store.counts(), { many: { cancelled: count } });
    assert.deepEqual(await q.call('jobBulk', 'remove', {}), { matched: count, changed: count });
    assert.deepEqual(await q.store.counts(), {});
  });

  test("applies to the filter's statuses the action accepts, with the single action's cascades", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const [failing, done] = await saveMany(q, 'w', 2) as [string, string];
    const first = await q.claim('w');
    const second = await q.claim('w');
    assert.deepEqual([first._id, second._id], [failing, done]);
    await q.call('jobFail', failing, first.runId, { message: 'no' }, { fatal: true });
    await q.call('jobDone', done, second.runId, {});
    const delayed = await q.save(newJob('w').delay(60_000));
    const dependent = await q.save(newJob('after-delayed').depends([savedJob(delayed)]));

    // Only failed jobs among those: restart is refused nothing, touches nothing else.
    assert.deepEqual(await q.call('jobBulk', 'restart', { statuses: ['failed', 'completed'] }), { matched: 1, changed: 1 });
    // Back in the queue, waiting for the retry time its failure set.
    const restarted = await q.mustReadJob(failing);
    assert.equal(restarted.status, 'waiting');
    assert.equal(restarted.log?.at(-1)?.message, 'Job Restarted');
    assert.equal((await q.mustReadJob(done)).status, 'completed');
    // Cancelling the type cascades to the dependent, as jobCancel does.
    const cancelled = await q.call('jobBulk', 'cancel', { types: ['w'] });
    // The restarted job and the delayed one, and the delayed one's dependent with them.
    assert.deepEqual(cancelled, { matched: 2, changed: 3 });
    assert.deepEqual(await statuses(q, [failing, delayed, dependent]), ['cancelled', 'cancelled', 'cancelled']);
    // Ready now: a delayed job is promoted, as jobReady with force.
    const held = await q.save(newJob('held').delay(60_000));
    assert.deepEqual(await q.call('jobBulk', 'ready', { types: ['held'] }), { matched: 1, changed: 1 });
    assert.equal((await q.mustReadJob(held)).status, 'ready');
  });

  test('refuses a malformed call with 400 and writes nothing', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const [id] = await saveMany(q, 'x', 1);
    for (const params of [['rerun', {}], ['cancel', { types: 'x' }], ['cancel', { status: ['ready'] }], ['cancel', { statuses: ['lost'] }], ['cancel']]) {
      await assert.rejects(q.call('jobBulk', ...params), (error: unknown) => error instanceof CumulusError && error.error === 400, JSON.stringify(params));
    }
    assert.equal((await q.mustReadJob(id as string)).status, 'ready');
  });
});

test('jobBulk applies to the jobs a search and a time range select, counted first', async (t) => {
  const q = await createJobContext();
  t.after(() => q.close());
  const start = q.clock.now();
  const [acme1, acme2] = [await q.save(newJob('mail', { customer: 'Acme' })), await q.save(newJob('mail', { customer: 'Acme' }))];
  const other = await q.save(newJob('mail', { customer: 'Globex' }));
  q.clock.advance(60_000);
  const acmeLater = await q.save(newJob('mail', { customer: 'Acme' }));
  const filter = { text: 'acme', created: { to: new Date(start.getTime() + 30_000) } };
  assert.deepEqual(await q.call('jobBulk', 'cancel', filter, { dryRun: true }), { matched: 2, changed: 0 });
  assert.deepEqual(await q.call('jobBulk', 'cancel', filter), { matched: 2, changed: 2 });
  assert.deepEqual(await statuses(q, [acme1 as string, acme2 as string, other, acmeLater]), ['cancelled', 'cancelled', 'ready', 'ready']);
});
