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
