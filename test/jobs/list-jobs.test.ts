// jobList: pages of a selection's jobs, newest activity first, each page after the last job of
// the one before (keyset paging).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobDoc } from '../../shared/job-doc.ts';
import { CumulusError } from '../../shared/errors.ts';
import { createJobContext, newJob } from '../helpers/job-context.ts';

test('jobList pages through a selection without gaps or repeats, and refuses malformed calls', async (t) => {
  const q = await createJobContext();
  t.after(() => q.close());
  const ids: string[] = [];
  for (let n = 0; n < 12; n += 1) {
    ids.push(await q.save(newJob(n % 3 === 0 ? 'other' : 'paged', { n })));
    q.clock.advance(1000);
  }
  const paged = ids.filter((_, n) => n % 3 !== 0);
  const seen: string[] = [];
  let after: { updated: Date; id: string } | undefined;
  for (;;) {
    const page = (await q.call('jobList', { types: ['paged'] }, { limit: 3, ...(after === undefined ? {} : { after }) })) as JobDoc[];
    if (page.length === 0) break;
    assert.ok(page.length <= 3);
    assert.ok(page.every((job) => !('log' in job) && !('_private' in job)));
    seen.push(...page.map((job) => job._id));
    const last = page.at(-1) as JobDoc;
    after = { updated: last.updated, id: last._id };
  }
  assert.deepEqual(seen, [...paged].reverse(), 'newest first, each job once');
  const ready = (await q.call('jobList', { statuses: ['ready'] })) as JobDoc[];
  assert.equal(ready.length, 12);
  for (const params of [[{ type: 'paged' }], [{}, { limit: 101 }], [{}, { after: { updated: 'yesterday', id: 'x' } }]]) {
    await assert.rejects(q.call('jobList', ...params), (error: unknown) => error instanceof CumulusError && error.error === 400, JSON.stringify(params));
  }
});

test('jobList searches words in data, result and failures, orders by creation or priority, and selects time ranges', async (t) => {
  const q = await createJobContext();
  t.after(() => q.close());
  const start = q.clock.now();
  const urgent = await q.save(newJob('mail', { to: 'ada@example.com', subject: 'Invoice 1042' }).priority('critical'));
  q.clock.advance(1000);
  const normal = await q.save(newJob('mail', { to: 'grace@example.com', subject: 'Invoice 1043' }));
  q.clock.advance(1000);
  const report = await q.save(newJob('report', { quarter: 'Q3' }));
  const claimed = await q.claim('report');
  await q.call('jobFail', report, claimed.runId, { reason: 'disk quota exceeded' });
  const ids = async (filter: object, options: object = {}) => ((await q.call('jobList', filter, options)) as JobDoc[]).map((job) => job._id);

  assert.deepEqual(await ids({ text: 'invoice' }), [normal, urgent], 'words in data; newest saved first');
  assert.deepEqual(await ids({ text: 'Invoice 1042' }), [urgent], 'every word');
  assert.deepEqual(await ids({ text: 'QUOTA' }), [report], 'words in failures');
  assert.deepEqual(await ids({ text: 'quota', statuses: ['ready'] }), [], 'with the other criteria');
  assert.deepEqual(await ids({ text: urgent }), [urgent], 'by id');
  assert.deepEqual(await ids({ text: ' .. ' }), [report, normal, urgent], 'no words: every job');
  assert.deepEqual(await ids({}, { order: 'priority' }), [urgent, report, normal]);
  assert.deepEqual(await ids({}, { order: 'created-desc' }), [report, normal, urgent]);
  assert.deepEqual(await ids({ created: { from: new Date(start.getTime() + 500), to: new Date(start.getTime() + 1500) } }), [normal]);
  const [first] = (await q.call('jobList', {}, { order: 'priority', limit: 1 })) as JobDoc[];
  assert.ok(first !== undefined);
  assert.deepEqual(await ids({}, { order: 'priority', after: { id: first._id, priority: first.priority, created: first.created } }), [report, normal]);
  assert.deepEqual(await ids({ text: 'invoice' }, { limit: 1, after: { id: normal } }), [urgent], 'a search pages after an id');

  const refused = [
    [{}, { order: 'priority', after: { id: first._id, created: first.created } }],
    [{}, { order: 'created-desc', after: { id: first._id } }],
    [{}, { order: 'oldest' }],
    [{ text: 42 }],
    [{ created: { from: 'today' } }],
    [{ text: 'x'.repeat(1001) }],
  ];
  for (const params of refused) {
    await assert.rejects(q.call('jobList', ...params), (error: unknown) => error instanceof CumulusError && error.error === 400, JSON.stringify(params));
  }
});
