/**
 * Chains stored and advanced by the server (docs/PROTOCOL.md §7.9): submission, the data
 * cascade, the outcome at the marked link or the end, failure and cancellation ending the
 * chain, jobs calling jobs with a depth limit, and bad input refused without a trace.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChainReport } from '../../shared/chains.ts';
import type { JobDoc } from '../../shared/job-doc.ts';
import { createJobContext, newJob, type TestConnection, type TestJobContext } from '../helpers/job-context.ts';
import { waitFor } from '../helpers/wait-for.ts';

type Links = Record<string, unknown>[];

async function submit(q: TestJobContext, links: Links, options: Record<string, unknown> = {}, caller?: TestConnection) {
  return caller === undefined ? q.call('chainSubmit', links, options) : q.callAs(caller.caller, 'chainSubmit', links, options);
}

/** Claims the one ready job of `type` and completes it with `result`. */
async function complete(q: TestJobContext, type: string, result: Record<string, unknown>): Promise<JobDoc> {
  const job = await q.claim(type);
  assert.equal(await q.call('jobDone', job._id, job.runId, result, {}), true);
  return job;
}

async function chainOf(q: TestJobContext, id: string) {
  const [chain] = await q.store.getChains([id]);
  assert.ok(chain !== undefined, `chain ${id} exists`);
  return chain;
}

async function jobsOfType(q: TestJobContext, type: string): Promise<JobDoc[]> {
  return (await q.snapshot()).filter((job) => job.type === type);
}

describe('chainSubmit', () => {
  test('saves the chain and its first link, ready, as an ordinary job carrying its place', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId, jobId } = await submit(q, [{ type: 'syncUser', name: 'user1', data: { id: 7 }, timeout: 30 }]);
    const job = await q.mustReadJob(jobId);
    assert.equal(job.status, 'ready');
    assert.equal(job.type, 'syncUser');
    assert.equal(job.name, 'user1');
    assert.deepEqual(job.data, { id: 7 });
    assert.deepEqual(job.chain, { id: chainId, index: 0, length: 1 });
    assert.deepEqual(job.log?.map((entry) => entry.message), ['Job Submitted', 'Promoted to ready']);
    const chain = await chainOf(q, chainId);
    assert.equal(chain.status, 'running');
    assert.deepEqual(chain.jobIds, [jobId]);
    assert.equal(chain.outcome, undefined);
  });

  test("cascades data: the next link runs with its own data and {[previous type]: previous result}", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId } = await submit(q, [
      { type: 'first', name: 'job1', data: { param1: 'initial message' }, timeout: 5 },
      { type: 'second', data: { param2: 'initial message' } },
    ]);
    assert.deepEqual(await jobsOfType(q, 'second'), [], 'the second link waits for the first');
    const first = await complete(q, 'first', { a: 1, b: 2, c: 3 });
    assert.deepEqual(first.data, { param1: 'initial message' });
    const [second] = await jobsOfType(q, 'second');
    assert.ok(second !== undefined);
    assert.deepEqual(second.data, { param2: 'initial message', first: { a: 1, b: 2, c: 3 } });
    assert.equal(second.name, 'job1', "the chain's name throughout");
    assert.deepEqual(second.chain, { id: chainId, index: 1, length: 2 });
    assert.equal((await chainOf(q, chainId)).outcome, undefined, 'no outcome before the last link');
    await complete(q, 'second', { done: true });
    const chain = await chainOf(q, chainId);
    assert.equal(chain.status, 'completed');
    assert.deepEqual(chain.outcome, { ok: true, jobId: second._id, index: 1, result: { done: true } });
  });

  test('passes a non-object result on as the value itself', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    await submit(q, [{ type: 'first' }, { type: 'second', data: { own: 1 } }]);
    await complete(q, 'first', { value: 'a string' });
    const [second] = await jobsOfType(q, 'second');
    assert.deepEqual(second?.data, { own: 1, first: 'a string' });
  });

  test('an error in a link ends the chain at once: its outcome is the failure, later links never run', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId, jobId } = await submit(q, [{ type: 'first' }, { type: 'second' }]);
    const run = await q.claim('first');
    assert.equal(await q.call('jobFail', run._id, run.runId, { value: 'boom' }, {}), true);
    const chain = await chainOf(q, chainId);
    assert.equal(chain.status, 'failed');
    assert.deepEqual(chain.outcome, {
      ok: false, jobId, index: 0, type: 'first', status: 'failed', failure: { value: 'boom', runId: run.runId },
    });
    assert.deepEqual(await jobsOfType(q, 'second'), []);
  });

  test("a link's own retries come first: the chain ends only when the link fails for good", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId } = await submit(q, [{ type: 'flaky', retries: 1, retryWait: 0 }]);
    const run = await q.claim('flaky');
    await q.call('jobFail', run._id, run.runId, { value: 'once' }, {});
    assert.equal((await chainOf(q, chainId)).status, 'running');
    await q.call('jobReady', [run._id], {});
    await complete(q, 'flaky', { ok: 1 });
    assert.equal((await chainOf(q, chainId)).status, 'completed');
  });

  test('callback: true on a link gives the outcome there, and the chain goes on', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId } = await submit(q, [{ type: 'first', callback: true }, { type: 'second' }]);
    const first = await complete(q, 'first', { early: true });
    const early = await chainOf(q, chainId);
    assert.equal(early.status, 'running');
    assert.deepEqual(early.outcome, { ok: true, jobId: first._id, index: 0, result: { early: true } });
    await complete(q, 'second', { late: true });
    const done = await chainOf(q, chainId);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.outcome, early.outcome, 'later results are not the outcome');
  });

  test('cancelling a link ends the chain as cancelled', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId, jobId } = await submit(q, [{ type: 'first' }, { type: 'second' }]);
    assert.equal(await q.call('jobCancel', jobId, {}), true);
    const chain = await chainOf(q, chainId);
    assert.equal(chain.status, 'cancelled');
    assert.deepEqual(chain.outcome, { ok: false, jobId, index: 0, type: 'first', status: 'cancelled' });
  });

  test('a failed link restarted by an admin resumes its chain when it completes', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId } = await submit(q, [{ type: 'first', retryWait: 0 }, { type: 'second' }]);
    const run = await q.claim('first');
    await q.call('jobFail', run._id, run.runId, { value: 'boom' }, {});
    assert.equal(await q.call('jobRestart', run._id, {}), true);
    await complete(q, 'first', { fixed: true });
    const [second] = await jobsOfType(q, 'second');
    assert.deepEqual(second?.data, { first: { fixed: true } });
    const chain = await chainOf(q, chainId);
    assert.equal(chain.status, 'running');
    assert.equal(chain.outcome?.ok, false, 'the submitter was answered once, with the failure');
  });

  test("a rerun of a completed link is no link: it does not move the chain", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId } = await submit(q, [{ type: 'first' }, { type: 'second' }]);
    const first = await complete(q, 'first', {});
    const rerunId = await q.call('jobRerun', first._id, { wait: 0 });
    assert.equal(typeof rerunId, 'string');
    const rerun = await q.mustReadJob(rerunId as string);
    assert.equal(rerun.chain, undefined);
    await complete(q, 'first', {});
    assert.equal((await jobsOfType(q, 'second')).length, 1);
    assert.equal((await chainOf(q, chainId)).jobIds.length, 2);
  });

  test('a client-chosen id makes a repeated submission answer the first one', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const first = await submit(q, [{ type: 'once' }], { id: 'chain_0001_abc' });
    const again = await submit(q, [{ type: 'once' }], { id: 'chain_0001_abc' });
    assert.deepEqual(again, first);
    assert.equal(first.chainId, 'chain_0001_abc');
    assert.equal((await jobsOfType(q, 'once')).length, 1);
  });

  const refusals: [string, Links, Record<string, unknown>, RegExp][] = [
    ['no links', [], {}, /links: a chain needs at least one link/],
    ['a link without a type', [{ data: {} }], {}, /links\.0\.type/],
    ['an empty type', [{ type: '' }], {}, /links\.0\.type: a link needs a type/],
    ['a timeout of 0', [{ type: 'a', timeout: 0 }], {}, /links\.0\.timeout: timeout must be a positive number/],
    ['a timeout that is not a number', [{ type: 'a', timeout: '30' }], {}, /links\.0\.timeout/],
    ['two links with callback: true', [{ type: 'a', callback: true }, { type: 'b', callback: true }], {}, /links\.1\.callback: only one link/],
    ['a timeout on a later link', [{ type: 'a' }, { type: 'b', timeout: 5 }], {}, /links\.1\.timeout: only the first link has a timeout/],
    ['a name on a later link', [{ type: 'a' }, { type: 'b', name: 'x' }], {}, /links\.1\.name: only the first link has a name/],
    ['data that is not an object', [{ type: 'a', data: 'text' }], {}, /links\.0\.data/],
    ['an unknown link key', [{ type: 'a', colour: 'red' }], {}, /links\.0/],
    ['an id DDP would escape', [{ type: 'a' }], { id: '-abcdefgh' }, /options\.id/],
    ['an id like an ObjectID', [{ type: 'a' }], { id: '0123456789abcdef01234567' }, /options\.id/],
  ];
  for (const [what, links, options, details] of refusals) {
    test(`refuses ${what} with a 400 naming it, writing nothing`, async (t) => {
      const q = await createJobContext();
      t.after(() => q.close());
      await q.expectMatchFailed('chainSubmit', links, options);
      await assert.rejects(q.call('chainSubmit', links, options), (error: { details?: string }) => details.test(error.details ?? ''));
    });
  }
});

describe('chains: jobs calling jobs', () => {
  test('a chain submitted for a running job records it as parent, one level deeper', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId: parentChain } = await submit(q, [{ type: 'parent' }]);
    const parent = await q.claim('parent');
    const { chainId, jobId } = await submit(q, [{ type: 'child' }], { parent: { id: parent._id, runId: parent.runId } });
    assert.equal((await q.mustReadJob(jobId)).parent, parent._id);
    assert.equal((await chainOf(q, chainId)).depth, 1);
    assert.equal((await chainOf(q, parentChain)).depth, 0);
  });

  test('refuses a parent that is not running under that runId', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { jobId } = await submit(q, [{ type: 'parent' }]);
    const before = await q.snapshot();
    await assert.rejects(submit(q, [{ type: 'child' }], { parent: { id: jobId, runId: 'nope' } }), { error: 409, reason: 'Parent job not running' });
    await assert.rejects(
      submit(q, [{ type: 'child' }], { parent: { id: 'missing', runId: 'nope' } }),
      (error: { details?: string }) => /job missing does not exist/.test(error.details ?? ''),
    );
    assert.deepEqual(await q.snapshot(), before, 'no orphan link');
  });

  test('refuses a parent that another connection runs: only its own handler submits for a job', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const runner = q.connect();
    const other = q.connect();
    await submit(q, [{ type: 'parent' }]);
    const [running] = await q.callAs(runner.caller, 'getWork', ['parent']);
    assert.ok(running !== undefined);
    const parent = { id: running._id, runId: running.runId };
    await assert.rejects(
      submit(q, [{ type: 'sneaky' }], { parent }, other),
      (error: { error?: unknown; details?: string }) => error.error === 409 && /is run by another connection/.test(error.details ?? ''),
    );
    assert.equal(typeof (await submit(q, [{ type: 'child' }], { parent }, runner)).chainId, 'string');
  });

  test('refuses recursion deeper than the limit, with a clear error and nothing saved', async (t) => {
    const q = await createJobContext({ limits: { maxChainDepth: 2 } });
    t.after(() => q.close());
    await submit(q, [{ type: 'level' }]);
    for (let depth = 1; depth <= 2; depth += 1) {
      const running = await q.claim('level');
      await submit(q, [{ type: 'level' }], { parent: { id: running._id, runId: running.runId } });
    }
    const deepest = await q.claim('level');
    const before = await q.snapshot();
    await assert.rejects(
      submit(q, [{ type: 'level' }], { parent: { id: deepest._id, runId: deepest.runId } }),
      (error: { error?: unknown; reason?: string; details?: string }) =>
        error.error === 400 && error.reason === 'Recursion too deep' && /3 levels deep; the limit is 2/.test(error.details ?? ''),
    );
    assert.deepEqual(await q.snapshot(), before);
  });

  test("cancelling a parent cancels its children's pending links, and theirs", async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { jobId: parentId } = await submit(q, [{ type: 'parent' }]);
    const parent = await q.claim('parent');
    const { chainId: childChain } = await submit(q, [{ type: 'child' }, { type: 'after-child' }], { parent: { id: parentId, runId: parent.runId } });
    const child = await q.claim('child');
    const { jobId: grandchild } = await submit(q, [{ type: 'grandchild' }], { parent: { id: child._id, runId: child.runId } });
    assert.equal(await q.call('jobCancel', parentId, {}), true);
    assert.equal((await q.mustReadJob(child._id)).status, 'cancelled');
    assert.equal((await q.mustReadJob(grandchild)).status, 'cancelled');
    assert.equal((await chainOf(q, childChain)).status, 'cancelled');
    assert.deepEqual(await jobsOfType(q, 'after-child'), []);
  });
});

describe('chains: children claimed in a lent slot, and cleanup', () => {
  test('getWork with parents claims only the children of those jobs, in claim order', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    await submit(q, [{ type: 'p' }]);
    const [parent] = await q.callAs(a.caller, 'getWork', ['p']);
    assert.ok(parent !== undefined);
    await submit(q, [{ type: 'work' }]);
    const { jobId: child } = await submit(q, [{ type: 'work', priority: 5 }], { parent: { id: parent._id, runId: parent.runId } }, a);
    assert.deepEqual(await q.callAs(a.caller, 'getWork', ['other'], { parents: [parent._id] }), [], 'a child of another type is not asked for');
    const claimed = await q.callAs(a.caller, 'getWork', ['work'], { parents: [parent._id], maxJobs: 5 });
    assert.deepEqual(claimed.map((job: { _id: string }) => job._id), [child], 'the older, higher-priority top-level job is left alone');
  });

  test('a waiting getWork for children is passed over for other work, which goes to the next waiter', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const lender = q.connect();
    const plain = q.connect();
    await submit(q, [{ type: 'p' }]);
    const [parent] = await q.callAs(lender.caller, 'getWork', ['p']);
    assert.ok(parent !== undefined);
    // The lender is idle apart from its waiting parent; the plain worker is busier.
    await submit(q, [{ type: 'busy' }]);
    await q.callAs(plain.caller, 'getWork', ['busy']);
    const forChildren = q.callAs(lender.caller, 'getWork', ['w'], { waitMs: 60_000, parents: [parent._id] });
    await waitFor(() => q.ctx.dispatcher.size === 1);
    const forAnything = q.callAs(plain.caller, 'getWork', ['w'], { waitMs: 60_000 });
    await waitFor(() => q.ctx.dispatcher.size === 2);
    const { jobId: topLevel } = await submit(q, [{ type: 'w' }]);
    assert.equal((await forAnything)[0]?._id, topLevel);
    const { jobId: child } = await submit(q, [{ type: 'w' }], { parent: { id: parent._id, runId: parent.runId } }, lender);
    assert.equal((await forChildren)[0]?._id, child);
  });

  test('removing every link of a finished chain removes the chain', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const { chainId, jobId } = await submit(q, [{ type: 'a' }, { type: 'b' }]);
    await complete(q, 'a', {});
    await complete(q, 'b', {});
    const [, second] = (await chainOf(q, chainId)).jobIds;
    assert.equal(await q.call('jobRemove', jobId, {}), true);
    assert.equal((await q.store.getChains([chainId])).length, 1, 'one link left');
    assert.equal(await q.call('jobRemove', second, {}), true);
    assert.deepEqual(await q.store.getChains([chainId]), []);
  });

  test('refuses a watch past the limit before saving anything, counting uncollected outcomes', async (t) => {
    const q = await createJobContext({ watchLimit: 2 });
    t.after(() => q.close());
    const a = q.connect();
    await submit(q, [{ type: 'x' }], { watch: true }, a);
    await complete(q, 'x', {});
    await submit(q, [{ type: 'x' }], { watch: true }, a);
    const before = await q.snapshot();
    await assert.rejects(submit(q, [{ type: 'x' }], { watch: true }, a), { error: 400, reason: 'Too many watched outcomes' });
    assert.deepEqual(await q.snapshot(), before, 'nothing saved');
    assert.equal((await q.callAs(a.caller, 'outcomes', {})).chains.length, 1);
    assert.equal(typeof (await submit(q, [{ type: 'x' }], { watch: true }, a)).chainId, 'string', 'room again once collected');
  });

  test('a connection that closed while its submission ran watches nothing', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const submitting = submit(q, [{ type: 'x' }], { watch: true }, a);
    a.close();
    await submitting;
    assert.equal(q.ctx.watcher.size, 0);
  });

  test('jobSaveMany refuses an id given twice', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const doc = newJob('t').doc;
    await q.expectMatchFailed('jobSaveMany', [doc, doc], { ids: ['twice_id_0001', 'twice_id_0001'] });
  });
});

describe('chains: awaiting outcomes (docs/PROTOCOL.md §7.12)', () => {
  test('chainWatch answers known outcomes and missing ids at once; outcomes delivers the rest when they settle', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const settled = await submit(q, [{ type: 'quick' }]);
    await complete(q, 'quick', { n: 1 });
    const pending = await submit(q, [{ type: 'slow' }]);
    const answer = await q.callAs(a.caller, 'chainWatch', [settled.chainId, pending.chainId, 'nosuchchain']);
    assert.deepEqual(answer.missing, ['nosuchchain']);
    assert.deepEqual(answer.outcomes.map((report: ChainReport) => report.id), [settled.chainId]);
    assert.deepEqual(await q.callAs(a.caller, 'outcomes', { waitMs: 0 }), { chains: [], jobs: [] }, 'nothing settled yet');
    const waiting = q.callAs(a.caller, 'outcomes', { waitMs: 60_000 });
    const slow = await complete(q, 'slow', { n: 2 });
    const { chains } = await waiting;
    assert.deepEqual(chains, [{ id: pending.chainId, status: 'completed', outcome: { ok: true, jobId: slow._id, index: 0, result: { n: 2 } } }]);
    assert.ok(a.unblocks > 0, 'a waiting outcomes call lets the connection go on');
    assert.equal(q.ctx.watcher.size, 0, 'nothing is watched once delivered');
  });

  test('submitting with watch: true watches at once; a closed connection stops watching', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const b = q.connect();
    const first = await submit(q, [{ type: 'w' }], { watch: true }, a);
    await submit(q, [{ type: 'w' }], { watch: true }, b);
    assert.equal(q.ctx.watcher.size, 2);
    b.close();
    assert.equal(q.ctx.watcher.size, 1);
    const done = await complete(q, 'w', {});
    const { chains } = await q.callAs(a.caller, 'outcomes', { waitMs: 10_000 });
    assert.deepEqual(chains.map((report: ChainReport) => report.id), [first.chainId]);
    assert.equal(chains[0]?.outcome.jobId, done._id);
  });

  test('a newer outcomes call of the same connection answers the older one with nothing', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    await submit(q, [{ type: 'w' }], { watch: true }, a);
    const older = q.callAs(a.caller, 'outcomes', { waitMs: 60_000 });
    const newer = q.callAs(a.caller, 'outcomes', { waitMs: 60_000 });
    assert.deepEqual(await older, { chains: [], jobs: [] });
    await complete(q, 'w', {});
    assert.equal((await newer).chains.length, 1);
  });

  test('jobWatch reports completed, failed, cancelled and removed jobs, each once, to every watcher', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const b = q.connect();
    const { jobId: done } = await submit(q, [{ type: 'j1' }]);
    const { jobId: failing } = await submit(q, [{ type: 'j2' }]);
    const { jobId: cancelled } = await submit(q, [{ type: 'j3' }]);
    const { jobId: removed } = await submit(q, [{ type: 'j4' }]);
    const known = await complete(q, 'j1', { r: 1 });
    const ids = [done, failing, cancelled, removed, 'nosuchjob'];
    const first = await q.callAs(a.caller, 'jobWatch', ids);
    assert.deepEqual(first, { outcomes: [{ id: known._id, status: 'completed', result: { r: 1 } }], missing: ['nosuchjob'] });
    await q.callAs(b.caller, 'jobWatch', [failing]);
    const run = await q.claim('j2');
    await q.call('jobFail', failing, run.runId, { value: 'broke' }, {});
    await q.call('jobCancel', [cancelled, removed], {});
    await q.call('jobRemove', removed, {});
    const seen: unknown[] = [];
    while (seen.length < 3) seen.push(...(await q.callAs(a.caller, 'outcomes', { waitMs: 10_000 })).jobs);
    assert.deepEqual(seen, [
      { id: failing, status: 'failed', failures: [{ value: 'broke', runId: run.runId }] },
      { id: cancelled, status: 'cancelled', failures: [] },
      { id: removed, status: 'cancelled', failures: [] },
    ]);
    assert.deepEqual((await q.callAs(b.caller, 'outcomes', { waitMs: 10_000 })).jobs.map((report: { id: string }) => report.id), [failing]);
    assert.equal(q.ctx.watcher.size, 0);
  });

  test('a watched job removed before it settles is reported removed', async (t) => {
    const q = await createJobContext();
    t.after(() => q.close());
    const a = q.connect();
    const { jobId } = await submit(q, [{ type: 'gone' }]);
    await q.callAs(a.caller, 'jobWatch', [jobId]);
    await q.store.transaction((tx) => tx.remove([jobId]));
    assert.deepEqual((await q.callAs(a.caller, 'outcomes', { waitMs: 10_000 })).jobs, [{ id: jobId, status: 'removed' }]);
  });
});
