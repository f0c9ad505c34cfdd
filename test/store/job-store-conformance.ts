/**
 * The behaviour every `JobStore` must have, written against the interface only, so each
 * backend (SQLite file, SQLite in memory, MongoDB) runs the same suite:
 *
 *   describeJobStoreConformance('sqlite file', async () => ({ store, close }));
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { foreverDate } from '../../shared/constants.ts';
import type { JobChange, JobStore, JobTransaction, StoredChain, StoredJob } from '../../server/store/job-store.ts';
import { emptyCounts } from '../../shared/analytics.ts';
import { makeJob, makeLogEntry } from '../helpers/job-fixtures.ts';

export interface OpenedTestStore {
  store: JobStore;
  /** Closes the store and removes whatever it used; must tolerate a store already closed. */
  close(): Promise<void>;
}

const t0 = new Date('2024-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

const idsOf = (jobs: readonly { _id: string }[]) => jobs.map((job) => job._id);
const sortedIds = (jobs: readonly { _id: string }[]) => idsOf(jobs).sort();

async function insert(store: JobStore, ...jobs: StoredJob[]): Promise<StoredJob[]> {
  await store.transaction(async (tx) => {
    for (const job of jobs) await tx.insert(job, []);
  });
  return jobs;
}

function read<T>(store: JobStore, work: (tx: JobTransaction) => Promise<T>): Promise<T> {
  return store.transaction(work);
}

/** A change without the document it carries, for comparing the rest. */
function withoutDoc({ doc: _doc, ...change }: JobChange): Omit<JobChange, 'doc'> {
  return change;
}

async function getOne(store: JobStore, id: string) {
  const [job] = await store.getJobs([id], { log: true, failures: true });
  return job;
}

/** Registers the conformance tests for the store `open` makes (a fresh, empty one per test). */
export function describeJobStoreConformance(name: string, open: () => Promise<OpenedTestStore>): void {
  describe(`JobStore conformance: ${name}`, () => {
    let opened: OpenedTestStore;
    let store: JobStore;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });

    afterEach(async () => {
      await opened.close();
    });

    describe('transaction', () => {
      it('resolves with the value of its work once committed', async () => {
        const job = makeJob();
        const value = await store.transaction(async (tx) => {
          await tx.insert(job, []);
          return 'done';
        });
        assert.equal(value, 'done');
        assert.deepEqual(sortedIds(await store.getJobs([job._id])), [job._id]);
      });

      it('rejects with the error of a work that throws, and keeps none of its writes', async () => {
        const [kept] = await insert(store, makeJob({ status: 'completed' }));
        assert.ok(kept);
        const fresh = makeJob();
        const failure = new Error('boom');
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insert(fresh, [makeLogEntry('new')]);
            await tx.update(kept._id, { priority: 7 });
            await tx.appendLog(kept._id, [makeLogEntry('added')]);
            await tx.remove([kept._id]);
            throw failure;
          }),
          (error) => error === failure,
        );
        assert.deepEqual(await store.getJobs([fresh._id]), []);
        const after = await getOne(store, kept._id);
        assert.equal(after?.priority, 0);
        assert.deepEqual(after?.log, []);
      });

      it('lets a work read its own writes', async () => {
        const job = makeJob({ type: 'own', status: 'ready' });
        const seen = await store.transaction(async (tx) => {
          await tx.insert(job, []);
          const before = await tx.nextReady(['own'], 5);
          await tx.update(job._id, { status: 'running', runId: 'run1' });
          return {
            got: await tx.get(job._id),
            found: await tx.find({ statuses: ['running'] }),
            before,
            readyAfter: await tx.nextReady(['own'], 5),
          };
        });
        assert.equal(seen.got?.status, 'running');
        assert.deepEqual(idsOf(seen.found), [job._id]);
        assert.deepEqual(idsOf(seen.before), [job._id]);
        assert.deepEqual(seen.readyAfter, []);
      });

      it('rejects a duplicate id and undoes the rest of that work', async () => {
        const [existing] = await insert(store, makeJob());
        assert.ok(existing);
        const other = makeJob();
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insert(other, []);
            await tx.insert(makeJob({ _id: existing._id, type: 'duplicate' }), []);
          }),
        );
        assert.deepEqual(await store.getJobs([other._id]), []);
        assert.equal((await getOne(store, existing._id))?.type, 'test');
      });

      it('settles concurrent transactions independently', async () => {
        const jobs = Array.from({ length: 20 }, () => makeJob());
        const results = await Promise.allSettled(
          jobs.map((job, index) =>
            store.transaction(async (tx) => {
              await tx.insert(job, []);
              if (index === 7) throw new Error('only this one');
              return index;
            }),
          ),
        );
        results.forEach((result, index) => {
          if (index === 7) assert.equal(result.status, 'rejected');
          else assert.deepEqual(result, { status: 'fulfilled', value: index });
        });
        const stored = await store.getJobs(idsOf(jobs));
        assert.deepEqual(sortedIds(stored), idsOf(jobs.filter((_, index) => index !== 7)).sort());
      });
    });

    describe('documents', () => {
      it('round-trips a document exactly: types, nesting, optional fields and key order', async () => {
        const job = makeJob({
          data: {
            text: 'é ✓',
            number: 1.5,
            when: at(1),
            nested: { list: [1, 'two', { three: at(3) }], empty: {}, nothing: null },
            bytes: new Uint8Array([0, 1, 254, 255]),
            notANumber: NaN,
            $looksSpecial: { $date: 'not a date' },
          },
          result: { ok: true },
          failures: [{ runId: 'r1', value: 'x' }],
          workTimeout: 1000,
          expiresAfter: at(60),
          retryUntil: foreverDate,
          repeatWait: { schedules: [{ h: [3] }], exceptions: [] },
        });
        await insert(store, job);
        const [stored] = await store.getJobs([job._id], { failures: true });
        assert.deepEqual(stored, job);
        assert.deepEqual(Object.keys(stored ?? {}), Object.keys(job));
        assert.ok(stored?.data.when instanceof Date);
        assert.equal(stored?.retryUntil.getTime(), foreverDate.getTime());
      });

      it('returns copies: changing a returned or inserted object changes nothing stored', async () => {
        const job = makeJob({ data: { n: 1 } });
        await insert(store, job);
        job.data.n = 2;
        const [first] = await store.getJobs([job._id]);
        assert.equal(first?.data.n, 1);
        if (first) first.data.n = 3;
        const inTx = await read(store, (tx) => tx.get(job._id));
        assert.equal(inTx?.data.n, 1);
      });

      it('getJobs adds the log and the failures only when asked, and skips missing ids', async () => {
        const job = makeJob({ failures: [{ runId: 'r1' }] });
        const first = makeLogEntry('Job Submitted', { time: at(1) });
        await store.transaction((tx) => tx.insert(job, [first]));
        const second = makeLogEntry('Job Running', { time: at(2), runId: 'r1', data: { k: at(9) } });
        const third = makeLogEntry('more', { time: at(3), level: 'warning' });
        await store.transaction((tx) => tx.appendLog(job._id, [second]));
        await store.transaction((tx) => tx.appendLog(job._id, [third]));

        const [plain] = await store.getJobs([job._id, 'missing-id']);
        assert.ok(plain);
        assert.equal('log' in plain, false);
        assert.equal('failures' in plain, false);

        const [full] = await store.getJobs([job._id], { log: true, failures: true });
        assert.deepEqual(full?.log, [first, second, third]);
        assert.deepEqual(full?.failures, [{ runId: 'r1' }]);
        // The log takes its place among the keys, between expiresAfter's slot and progress.
        const keys = Object.keys(full ?? {});
        assert.equal(keys.indexOf('log') + 1, keys.indexOf('progress'));
      });

      it('get and find', async () => {
        const a = makeJob({ type: 'a', status: 'waiting' });
        const b = makeJob({ type: 'b', status: 'ready' });
        const c = makeJob({ type: 'a', status: 'ready' });
        await insert(store, a, b, c);
        const all = [a, b, c];
        const found = await read(store, async (tx) => ({
          missing: await tx.get('nope'),
          one: await tx.get(b._id),
          all: await tx.find({}),
          byIds: await tx.find({ ids: [a._id, c._id, 'nope'] }),
          byType: await tx.find({ types: ['a'] }),
          byStatus: await tx.find({ statuses: ['ready'] }),
          combined: await tx.find({ ids: [a._id, b._id, c._id], types: ['a'], statuses: ['ready'] }),
          typeAndStatus: await tx.find({ types: ['a', 'b'], statuses: ['waiting'] }),
          noIds: await tx.find({ ids: [] }),
          noTypes: await tx.find({ types: [] }),
          noStatuses: await tx.find({ statuses: [] }),
        }));
        assert.equal(found.missing, undefined);
        assert.deepEqual(found.one, b);
        assert.deepEqual(sortedIds(found.all), sortedIds(all));
        assert.deepEqual(sortedIds(found.byIds), sortedIds([a, c]));
        assert.deepEqual(sortedIds(found.byType), sortedIds([a, c]));
        assert.deepEqual(sortedIds(found.byStatus), sortedIds([b, c]));
        assert.deepEqual(idsOf(found.combined), [c._id]);
        assert.deepEqual(idsOf(found.typeAndStatus), [a._id]);
        assert.deepEqual(found.noIds, []);
        assert.deepEqual(found.noTypes, []);
        assert.deepEqual(found.noStatuses, []);
      });
    });

    describe('update', () => {
      it('merges changes and removes keys set to undefined', async () => {
        const job = makeJob({ result: { old: true }, workTimeout: 50 });
        await insert(store, job);
        const changed = await store.transaction((tx) =>
          tx.update(job._id, {
            status: 'completed',
            result: { value: 42 },
            workTimeout: undefined,
            progress: { completed: 1, total: 1, percent: 100 },
            expiresAfter: at(5),
          }),
        );
        assert.equal(changed, true);
        const stored = await getOne(store, job._id);
        assert.equal(stored?.status, 'completed');
        assert.deepEqual(stored?.result, { value: 42 });
        assert.equal(stored && 'workTimeout' in stored, false);
        assert.deepEqual(stored?.expiresAfter, at(5));
        assert.deepEqual(stored?.data, job.data);
        assert.equal(stored?.type, job.type);
        // A field added later sits where a fresh document has it.
        const keys = Object.keys(stored ?? {});
        assert.ok(keys.indexOf('expiresAfter') < keys.indexOf('progress'));
        assert.ok(keys.indexOf('expiresAfter') > keys.indexOf('created'));
      });

      it('keeps the server-private field through other changes, and removes it when set to undefined', async () => {
        const job = makeJob({ status: 'ready' });
        await insert(store, job);
        await store.transaction((tx) => tx.update(job._id, { status: 'running', runId: 'run-1', _private: { claimedBy: 'conn-1' } }));
        await store.transaction((tx) => tx.update(job._id, { priority: 5 }));
        const claimed = await read(store, async (tx) => ({
          get: await tx.get(job._id),
          found: await tx.find({ statuses: ['running'] }),
        }));
        assert.deepEqual(claimed.get?._private, { claimedBy: 'conn-1' });
        assert.deepEqual(claimed.found.map((found) => found._private), [{ claimedBy: 'conn-1' }]);
        await store.transaction((tx) => tx.update(job._id, { status: 'completed', _private: undefined }));
        const done = await getOne(store, job._id);
        assert.equal(done && '_private' in done, false);
      });

      it('returns false for a missing job', async () => {
        assert.equal(await store.transaction((tx) => tx.update('missing', { priority: 1 })), false);
      });

      it('applies only while the status guard holds', async () => {
        const job = makeJob({ status: 'ready' });
        await insert(store, job);
        const refused = await store.transaction((tx) =>
          tx.update(job._id, { status: 'paused' }, { statuses: ['waiting', 'running'] }),
        );
        assert.equal(refused, false);
        assert.equal((await getOne(store, job._id))?.status, 'ready');
        const empty = await store.transaction((tx) => tx.update(job._id, { status: 'paused' }, { statuses: [] }));
        assert.equal(empty, false);
        const applied = await store.transaction((tx) =>
          tx.update(job._id, { status: 'paused' }, { statuses: ['waiting', 'ready'] }),
        );
        assert.equal(applied, true);
        assert.equal((await getOne(store, job._id))?.status, 'paused');
      });

      it('compares the runId guard strictly, null meaning none', async () => {
        const running = makeJob({ status: 'running', runId: 'run-1' });
        const idle = makeJob({ status: 'ready', runId: null });
        await insert(store, running, idle);
        const outcomes = await store.transaction(async (tx) => ({
          stale: await tx.update(running._id, { priority: 1 }, { runId: 'run-0' }),
          nullOnRunning: await tx.update(running._id, { priority: 1 }, { runId: null }),
          idOnIdle: await tx.update(idle._id, { priority: 1 }, { runId: 'run-1' }),
          current: await tx.update(running._id, { priority: 2 }, { runId: 'run-1', statuses: ['running'] }),
          nullOnIdle: await tx.update(idle._id, { priority: 3 }, { runId: null }),
          noGuard: await tx.update(idle._id, { retried: 4 }, {}),
        }));
        assert.deepEqual(outcomes, {
          stale: false,
          nullOnRunning: false,
          idOnIdle: false,
          current: true,
          nullOnIdle: true,
          noGuard: true,
        });
        assert.equal((await getOne(store, running._id))?.priority, 2);
        assert.equal((await getOne(store, idle._id))?.priority, 3);
      });

      it('moves a job between the queries that depend on the changed fields', async () => {
        const job = makeJob({ type: 'q', status: 'waiting', after: at(100) });
        await insert(store, job);
        const before = await read(store, async (tx) => ({
          ready: await tx.nextReady(['q'], 1),
          promotable: await tx.promotable(at(10), { ignoreDepends: false }),
        }));
        assert.deepEqual(before, { ready: [], promotable: [] });
        await store.transaction((tx) => tx.update(job._id, { after: at(5) }));
        assert.deepEqual(idsOf(await read(store, (tx) => tx.promotable(at(10), { ignoreDepends: false }))), [job._id]);
        await store.transaction((tx) => tx.update(job._id, { status: 'ready' }));
        assert.deepEqual(idsOf(await read(store, (tx) => tx.nextReady(['q'], 1))), [job._id]);
        await store.transaction((tx) => tx.update(job._id, { type: 'r' }));
        assert.deepEqual(await read(store, (tx) => tx.nextReady(['q'], 1)), []);
        assert.deepEqual(await store.counts(), { r: { ready: 1 } });
      });
    });

    describe('promotable with a limit', () => {
      it('answers the earliest due jobs first, at most the limit, with or without ids', async () => {
        const jobs = [at(30), at(10), at(20), at(40)].map((after) => makeJob({ type: 'lim', status: 'waiting', after }));
        await insert(store, ...jobs);
        const [late, early, middle] = jobs as [StoredJob, StoredJob, StoredJob, StoredJob];
        const limited = await read(store, (tx) => tx.promotable(at(35), { ignoreDepends: false, limit: 2 }));
        assert.deepEqual(idsOf(limited), [early._id, middle._id]);
        const byIds = await read(store, (tx) => tx.promotable(at(35), { ids: jobs.map((j) => j._id), ignoreDepends: false, limit: 1 }));
        assert.deepEqual(idsOf(byIds), [early._id]);
        const all = await read(store, (tx) => tx.promotable(at(35), { ignoreDepends: false }));
        assert.deepEqual(idsOf(all), [early._id, middle._id, late._id]);
      });
    });

    describe('appendLog', () => {
      it('appends in order, leaves the document alone and ignores a missing job', async () => {
        const job = makeJob();
        await store.transaction((tx) => tx.insert(job, [makeLogEntry('0')]));
        await store.transaction(async (tx) => {
          await tx.appendLog(job._id, [makeLogEntry('1'), makeLogEntry('2')]);
          await tx.appendLog(job._id, []);
          await tx.appendLog(job._id, [makeLogEntry('3')]);
          await tx.appendLog('missing', [makeLogEntry('lost')]);
        });
        const stored = await getOne(store, job._id);
        assert.deepEqual(
          stored?.log?.map((entry) => entry.message),
          ['0', '1', '2', '3'],
        );
        assert.deepEqual(stored?.updated, job.updated);
        // A job inserted later under the missing id does not inherit the lost entry.
        const late = makeJob({ _id: 'missing' });
        await insert(store, late);
        assert.deepEqual((await getOne(store, 'missing'))?.log, []);
      });
    });

    describe('remove', () => {
      it('removes jobs and their logs, and counts only what existed', async () => {
        const a = makeJob({ status: 'completed' });
        const b = makeJob({ status: 'failed' });
        const c = makeJob();
        await store.transaction(async (tx) => {
          await tx.insert(a, [makeLogEntry('a')]);
          await tx.insert(b, []);
          await tx.insert(c, []);
        });
        const removed = await store.transaction((tx) => tx.remove([a._id, b._id, a._id, 'missing']));
        assert.equal(removed, 2);
        assert.deepEqual(sortedIds(await store.getJobs([a._id, b._id, c._id])), [c._id]);
        assert.equal(await store.transaction((tx) => tx.remove([])), 0);
        // Same id again: a new job, with none of the old log.
        await store.transaction((tx) => tx.insert(makeJob({ _id: a._id }), [makeLogEntry('new')]));
        assert.deepEqual(
          (await getOne(store, a._id))?.log?.map((entry) => entry.message),
          ['new'],
        );
      });

      it('leaves the dependents of a removed job waiting, and forgets a removed dependent', async () => {
        const antecedent = makeJob({ status: 'completed' });
        const dependent = makeJob({ depends: [antecedent._id] });
        const other = makeJob({ depends: [antecedent._id] });
        await insert(store, antecedent, dependent, other);
        await store.transaction((tx) => tx.remove([antecedent._id, other._id]));
        const after = await read(store, async (tx) => ({
          dependents: await tx.dependentsOf([antecedent._id]),
          promotable: await tx.promotable(at(0), { ignoreDepends: false }),
        }));
        assert.deepEqual(idsOf(after.dependents), [dependent._id]);
        assert.deepEqual(after.promotable, []);
        assert.equal(await store.nextPromotionTime(), undefined);
      });
    });

    describe('nextReady', () => {
      it('gives claimable jobs of the types in claim order, up to the limit', async () => {
        const base = { type: 'work', status: 'ready' as const, created: at(0) };
        // Claim order: priority, retryUntil, after, created, then insertion.
        const p1 = makeJob({ ...base, priority: 10 });
        const p0Late = makeJob({ ...base, retryUntil: at(500) });
        const p0Early = makeJob({ ...base, retryUntil: at(100) });
        const critical = makeJob({ ...base, priority: -15 });
        const afterLater = makeJob({ ...base, retryUntil: at(100), after: at(2) });
        const createdLater = makeJob({ ...base, retryUntil: at(100), created: at(1) });
        const insertedLater = makeJob({ ...base, retryUntil: at(100) });
        const running = makeJob({ ...base, status: 'running', runId: 'r', priority: -20 });
        const claimed = makeJob({ ...base, runId: 'r', priority: -20 });
        const waiting = makeJob({ ...base, status: 'waiting', priority: -20 });
        const otherType = makeJob({ ...base, type: 'other', priority: -20 });
        await insert(store, p1, p0Late, p0Early, critical, afterLater, createdLater, insertedLater);
        await insert(store, running, claimed, waiting, otherType);
        const order = [critical, p0Early, insertedLater, createdLater, afterLater, p0Late, p1];
        const result = await read(store, async (tx) => ({
          all: await tx.nextReady(['work'], 100),
          three: await tx.nextReady(['work'], 3),
          none: await tx.nextReady(['work'], 0),
          noTypes: await tx.nextReady([], 10),
        }));
        assert.deepEqual(idsOf(result.all), idsOf(order));
        assert.deepEqual(idsOf(result.three), idsOf(order.slice(0, 3)));
        assert.deepEqual(result.none, []);
        assert.deepEqual(result.noTypes, []);
      });

      it('merges several types into one claim order', async () => {
        const a1 = makeJob({ type: 'a', status: 'ready', priority: 0 });
        const b1 = makeJob({ type: 'b', status: 'ready', priority: -5 });
        const a2 = makeJob({ type: 'a', status: 'ready', priority: -10 });
        const b2 = makeJob({ type: 'b', status: 'ready', priority: 5 });
        await insert(store, a1, b1, a2, b2);
        const [all, two] = await read(store, async (tx) => [
          await tx.nextReady(['a', 'b', 'a'], 10),
          await tx.nextReady(['b', 'a'], 2),
        ]);
        assert.deepEqual(idsOf(all ?? []), idsOf([a2, b1, a1, b2]));
        assert.deepEqual(idsOf(two ?? []), idsOf([a2, b1]));
      });
    });

    describe('dependentsOf', () => {
      it('finds each job whose pending depends contains one of the ids, once', async () => {
        const x = makeJob({ status: 'completed' });
        const y = makeJob({ status: 'completed' });
        const onX = makeJob({ depends: [x._id] });
        const onBoth = makeJob({ depends: [x._id, y._id] });
        const onYPaused = makeJob({ status: 'paused', depends: [y._id] });
        const resolvedX = makeJob({ resolved: [x._id] });
        await insert(store, x, y, onX, onBoth, onYPaused, resolvedX);
        const found = await read(store, async (tx) => ({
          x: await tx.dependentsOf([x._id]),
          both: await tx.dependentsOf([x._id, y._id]),
          waitingOnly: await tx.dependentsOf([x._id, y._id], ['waiting']),
          none: await tx.dependentsOf([]),
          unknown: await tx.dependentsOf(['nobody']),
        }));
        assert.deepEqual(sortedIds(found.x), sortedIds([onX, onBoth]));
        assert.deepEqual(sortedIds(found.both), sortedIds([onX, onBoth, onYPaused]));
        assert.deepEqual(sortedIds(found.waitingOnly), sortedIds([onX, onBoth]));
        assert.deepEqual(found.none, []);
        assert.deepEqual(found.unknown, []);
      });

      it('follows changes of depends', async () => {
        const x = makeJob({ status: 'completed' });
        const dependent = makeJob({ depends: [x._id] });
        await insert(store, x, dependent);
        await store.transaction((tx) => tx.update(dependent._id, { depends: [], resolved: [x._id] }));
        assert.deepEqual(await read(store, (tx) => tx.dependentsOf([x._id])), []);
        await store.transaction((tx) => tx.update(dependent._id, { depends: ['later', 'later'] }));
        assert.deepEqual(idsOf(await read(store, (tx) => tx.dependentsOf(['later']))), [dependent._id]);
      });
    });

    describe('promotable', () => {
      it('gives due waiting jobs without pending depends, or with them when asked', async () => {
        const due = makeJob({ after: at(5) });
        const dueNow = makeJob({ after: at(10) });
        const later = makeJob({ after: at(11) });
        const blocked = makeJob({ after: at(0), depends: ['elsewhere'] });
        const paused = makeJob({ status: 'paused', after: at(0) });
        const ready = makeJob({ status: 'ready', after: at(0) });
        await insert(store, due, dueNow, later, blocked, paused, ready);
        const found = await read(store, async (tx) => ({
          plain: await tx.promotable(at(10), { ignoreDepends: false }),
          forced: await tx.promotable(at(10), { ignoreDepends: true }),
          someIds: await tx.promotable(at(10), { ids: [due._id, later._id, blocked._id, 'x'], ignoreDepends: false }),
          someIdsForced: await tx.promotable(at(10), { ids: [blocked._id, paused._id], ignoreDepends: true }),
          noIds: await tx.promotable(at(10), { ids: [], ignoreDepends: true }),
        }));
        assert.deepEqual(sortedIds(found.plain), sortedIds([due, dueNow]));
        assert.deepEqual(sortedIds(found.forced), sortedIds([due, dueNow, blocked]));
        assert.deepEqual(idsOf(found.someIds), [due._id]);
        assert.deepEqual(idsOf(found.someIdsForced), [blocked._id]);
        assert.deepEqual(found.noIds, []);
      });
    });

    describe('expired', () => {
      it('gives running jobs whose lease ended before the time', async () => {
        const over = makeJob({ status: 'running', runId: 'r', expiresAfter: at(5) });
        const exactly = makeJob({ status: 'running', runId: 'r', expiresAfter: at(10) });
        const noLease = makeJob({ status: 'running', runId: 'r' });
        const notRunning = makeJob({ status: 'failed', expiresAfter: at(0) });
        await insert(store, over, exactly, noLease, notRunning);
        assert.deepEqual(idsOf(await read(store, (tx) => tx.expired(at(10)))), [over._id]);
        assert.deepEqual(sortedIds(await read(store, (tx) => tx.expired(at(11)))), sortedIds([over, exactly]));
      });
    });

    describe('list', () => {
      it('filters, orders and limits', async () => {
        const a = makeJob({ type: 'a', created: at(1), updated: at(30) });
        const b = makeJob({ type: 'b', created: at(2), updated: at(10), status: 'ready' });
        const c = makeJob({ type: 'a', created: at(3), updated: at(20) });
        await insert(store, c, a, b);
        assert.deepEqual(idsOf(await store.list({}, { limit: 10, order: 'created-asc' })), idsOf([a, b, c]));
        assert.deepEqual(idsOf(await store.list({}, { limit: 10, order: 'updated-desc' })), idsOf([a, c, b]));
        assert.deepEqual(idsOf(await store.list({}, { limit: 2, order: 'updated-desc' })), idsOf([a, c]));
        assert.deepEqual(idsOf(await store.list({ types: ['a'] }, { limit: 10, order: 'created-asc' })), idsOf([a, c]));
        assert.deepEqual(idsOf(await store.list({ statuses: ['ready'] }, { limit: 10, order: 'created-asc' })), [b._id]);
        assert.deepEqual(
          idsOf(await store.list({ ids: [b._id, c._id, 'x'] }, { limit: 10, order: 'updated-desc' })),
          idsOf([c, b]),
        );
        assert.deepEqual(
          idsOf(await store.list({ ids: [a._id, b._id, c._id], types: ['a'] }, { limit: 1, order: 'created-asc' })),
          [a._id],
        );
        assert.deepEqual(await store.list({}, { limit: 0, order: 'created-asc' }), []);
        assert.deepEqual(await store.list({ types: [] }, { limit: 10, order: 'created-asc' }), []);
        await store.transaction((tx) => tx.update(b._id, { updated: at(40) }));
        assert.deepEqual(idsOf(await store.list({}, { limit: 1, order: 'updated-desc' })), [b._id]);
      });

      it('pages by keyset in updated-desc order, ties included, whichever way it lists', async () => {
        const jobs = ['a', 'b', 'c', 'd', 'e'].map((id, n) => makeJob({ _id: `page-${id}`, updated: at(n < 3 ? 10 : 20 - n) }));
        await insert(store, ...jobs);
        // d (17 s) and e (16 s) first; a, b and c share 10 s, so their ids, descending, decide.
        const all = idsOf(await store.list({}, { limit: 10, order: 'updated-desc' }));
        assert.deepEqual(all, ['page-d', 'page-e', 'page-c', 'page-b', 'page-a']);
        const pages: string[][] = [];
        let after: { updated: Date; id: string } | undefined;
        for (;;) {
          const page = await store.list({}, { limit: 2, order: 'updated-desc', ...(after === undefined ? {} : { after }) });
          if (page.length === 0) break;
          pages.push(idsOf(page));
          const last = page.at(-1) as StoredJob;
          after = { updated: last.updated, id: last._id };
        }
        assert.deepEqual(pages, [['page-d', 'page-e'], ['page-c', 'page-b'], ['page-a']]);
        const byIds = await store.list({ ids: idsOf(jobs) }, { limit: 10, order: 'updated-desc', after: { updated: at(10), id: 'page-c' } });
        assert.deepEqual(idsOf(byIds), ['page-b', 'page-a']);
      });

      it('breaks ties of updated-desc by _id, descending, whichever way it lists', async () => {
        const jobs = ['m', 'x', 'b', 'q'].map((id) => makeJob({ _id: `tie-${id}`, updated: at(5) }));
        await insert(store, ...jobs);
        const expected = ['tie-x', 'tie-q', 'tie-m', 'tie-b'];
        assert.deepEqual(idsOf(await store.list({}, { limit: 10, order: 'updated-desc' })), expected);
        assert.deepEqual(idsOf(await store.list({ ids: idsOf(jobs) }, { limit: 10, order: 'updated-desc' })), expected);
      });
    });

    describe('list orders and ranges', () => {
      it('lists newest created first and by priority, paging by keyset with ties by _id', async () => {
        const jobs = [
          makeJob({ _id: 'o-a', created: at(1), priority: 0 }),
          makeJob({ _id: 'o-b', created: at(2), priority: -10 }),
          makeJob({ _id: 'o-c', created: at(2), priority: 0 }),
          makeJob({ _id: 'o-d', created: at(3), priority: 10 }),
          makeJob({ _id: 'o-e', created: at(4), priority: -10 }),
        ];
        await insert(store, ...jobs);
        const expected = {
          'created-desc': ['o-e', 'o-d', 'o-c', 'o-b', 'o-a'],
          priority: ['o-e', 'o-b', 'o-c', 'o-a', 'o-d'],
        } as const;
        for (const order of ['created-desc', 'priority'] as const) {
          assert.deepEqual(idsOf(await store.list({}, { limit: 10, order })), expected[order], order);
          assert.deepEqual(idsOf(await store.list({ ids: idsOf(jobs) }, { limit: 10, order })), expected[order], `${order} by ids`);
          const pages: string[] = [];
          let last: StoredJob | undefined;
          for (;;) {
            const after = last === undefined ? undefined : { id: last._id, created: last.created, priority: last.priority, updated: last.updated };
            const page = await store.list({}, { limit: 2, order, ...(after === undefined ? {} : { after }) });
            if (page.length === 0) break;
            pages.push(...idsOf(page));
            last = page.at(-1);
          }
          assert.deepEqual(pages, expected[order], `${order} paged`);
        }
      });

      it('refuses a page cursor without the keys of its order', async () => {
        await insert(store, makeJob({}));
        await assert.rejects(store.list({}, { limit: 5, order: 'priority', after: { id: 'x', created: at(1) } }), /needs its priority/);
        await assert.rejects(store.list({}, { limit: 5, order: 'created-desc', after: { id: 'x' } }), /needs its created/);
      });

      it('selects by created and updated ranges, from included and to excluded, and counts the same', async () => {
        const early = makeJob({ created: at(1), updated: at(50) });
        const middle = makeJob({ created: at(5), updated: at(5), type: 'm' });
        const late = makeJob({ created: at(9), updated: at(9) });
        await insert(store, early, middle, late);
        const query = { created: { from: at(1), to: at(9) } };
        assert.deepEqual(sortedIds(await store.list(query, { limit: 10, order: 'created-desc' })), sortedIds([early, middle]));
        assert.equal(await store.count(query), 2);
        assert.deepEqual(idsOf(await store.list({ updated: { from: at(9) } }, { limit: 10, order: 'updated-desc' })), idsOf([early, late]));
        assert.deepEqual(idsOf(await store.list({ updated: { to: at(9) }, types: ['m'] }, { limit: 10, order: 'updated-desc' })), [middle._id]);
        assert.equal(await store.count({ updated: { to: at(9) }, types: ['m'] }), 1);
        assert.equal(await store.count({}), 3);
        assert.equal(await store.count({ ids: [early._id, late._id, 'missing'], created: { to: at(5) } }), 1);
      });
    });

    describe('search', () => {
      it('finds jobs by words of their id, type, name, data, result and failures, as prefixes, all words required', async () => {
        const invoice = makeJob({ _id: 'search-invoice', type: 'sendEmail', data: { to: 'Zoë@example.com', lines: [{ sku: 'A-42' }] } });
        const report = makeJob({ _id: 'search-report', type: 'render', name: 'quarterly', data: { pages: 12 } });
        const failed = makeJob({ _id: 'search-failed', type: 'render', data: {}, failures: [{ reason: 'Timeout talking to SMTP' }] });
        await insert(store, invoice, report, failed);
        const found = async (text: string) => sortedIds(await store.list({ text }, { limit: 10, order: 'updated-desc' }));
        assert.deepEqual(await found('zoe'), ['search-invoice'], 'diacritics and case do not matter');
        assert.deepEqual(await found('exam'), ['search-invoice'], 'a word matches as a prefix');
        assert.deepEqual(await found('a 42'), ['search-invoice'], 'nested data');
        assert.deepEqual(await found('sendemail'), ['search-invoice'], 'the type');
        assert.deepEqual(await found('quarterly'), ['search-report'], 'the name');
        assert.deepEqual(await found('12'), ['search-report'], 'numbers');
        assert.deepEqual(await found('smtp timeout'), ['search-failed'], 'failures, every word');
        assert.deepEqual(await found('search-report'), ['search-report'], 'the id');
        assert.deepEqual(await found('render'), ['search-failed', 'search-report']);
        assert.deepEqual(await found('render missing'), [], 'every word is required');
        assert.deepEqual(await found('"* OR NEAR('), [], 'query syntax is only words');
        assert.equal(await store.count({ text: 'render' }), 2);
        assert.equal(await store.count({ text: 'render', ids: ['search-report', 'search-invoice'] }), 1);
        assert.deepEqual(sortedIds(await store.list({ text: 'render', types: ['render'], statuses: ['waiting'] }, { limit: 10, order: 'priority' })), ['search-failed', 'search-report']);
        assert.equal((await store.list({ text: '  ' }, { limit: 10, order: 'updated-desc' })).length, 3, 'no words: no text criterion');
      });

      it('follows results, failures and data as they change, and forgets removed jobs', async () => {
        const job = makeJob({ _id: 'search-follow', data: { city: 'Lyon' } });
        await insert(store, job);
        await store.transaction((tx) => tx.update(job._id, { result: { answer: 'Marseille' }, status: 'completed' }));
        const found = async (text: string) => idsOf(await store.list({ text }, { limit: 10, order: 'updated-desc' }));
        assert.deepEqual(await found('marseille lyon'), [job._id]);
        await store.transaction((tx) => tx.update(job._id, { result: undefined, data: { city: 'Nice' }, status: 'waiting' }));
        assert.deepEqual(await found('marseille'), []);
        assert.deepEqual(await found('lyon'), []);
        assert.deepEqual(await found('nice'), [job._id]);
        await store.transaction((tx) => tx.remove([job._id]));
        assert.deepEqual(await found('nice'), []);
        assert.equal(await store.count({ text: 'nice' }), 0);
      });

      it('lists matches newest saved first and pages after a job by its id alone', async () => {
        const jobs = ['1', '2', '3', '4', '5'].map((n) => makeJob({ _id: `match-${n}`, data: { tag: 'blue' } }));
        for (const job of jobs) await insert(store, job);
        await insert(store, makeJob({ _id: 'match-other', data: { tag: 'green' } }));
        const pages: string[] = [];
        let after: { id: string } | undefined;
        for (;;) {
          const page = await store.list({ text: 'blue' }, { limit: 2, order: 'updated-desc', ...(after === undefined ? {} : { after }) });
          if (page.length === 0) break;
          pages.push(...idsOf(page));
          after = { id: (page.at(-1) as StoredJob)._id };
        }
        assert.deepEqual(pages, ['match-5', 'match-4', 'match-3', 'match-2', 'match-1']);
        const byIds = await store.list({ text: 'blue', ids: idsOf(jobs) }, { limit: 10, order: 'updated-desc', after: { id: 'match-3' } });
        assert.deepEqual(idsOf(byIds), ['match-2', 'match-1']);
        assert.deepEqual(await store.list({ text: 'blue' }, { limit: 10, order: 'updated-desc', after: { id: 'gone' } }), []);
      });
    });

    describe('analytics', () => {
      it('adds counts into periods, reads them from a start, and prunes the old ones', async () => {
        const period = (type: string, minute: number, completed: number, bucket: number) => {
          const counts = emptyCounts();
          counts.runTimes[bucket] = completed;
          return { ...counts, completed, failed: 1, retried: 2, runTimeTotalMs: completed * 10, type, resolution: 'minute' as const, at: at(minute * 60) };
        };
        await store.transaction((tx) => tx.addAnalytics([period('a', 1, 3, 2), period('b', 1, 1, 0)]));
        await store.transaction((tx) => tx.addAnalytics([period('a', 1, 2, 4), period('a', 2, 5, 2)]));
        await store.transaction((tx) => tx.addAnalytics([{ ...period('a', 1, 7, 1), resolution: 'hour' }]));
        const read = async (since: Date) =>
          (await store.readAnalytics('minute', since))
            .map(({ type, at: start, completed, failed, retried, runTimes, runTimeTotalMs }) => ({ type, start: start.getTime(), completed, failed, retried, runTimes, runTimeTotalMs }))
            .sort((x, y) => x.start - y.start || x.type.localeCompare(y.type));
        const buckets = (entries: Record<number, number>) => {
          const runTimes = emptyCounts().runTimes;
          for (const [index, count] of Object.entries(entries)) runTimes[Number(index)] = count;
          return runTimes;
        };
        assert.deepEqual(await read(at(0)), [
          { type: 'a', start: at(60).getTime(), completed: 5, failed: 2, retried: 4, runTimes: buckets({ 2: 3, 4: 2 }), runTimeTotalMs: 50 },
          { type: 'b', start: at(60).getTime(), completed: 1, failed: 1, retried: 2, runTimes: buckets({ 0: 1 }), runTimeTotalMs: 10 },
          { type: 'a', start: at(120).getTime(), completed: 5, failed: 1, retried: 2, runTimes: buckets({ 2: 5 }), runTimeTotalMs: 50 },
        ]);
        assert.deepEqual((await read(at(120))).map((row) => row.start), [at(120).getTime()]);
        assert.deepEqual((await store.readAnalytics('hour', at(0))).map((row) => row.completed), [7]);
        await store.transaction((tx) => tx.pruneAnalytics('minute', at(120)));
        assert.deepEqual((await read(at(0))).map((row) => row.start), [at(120).getTime()]);
        assert.equal((await store.readAnalytics('hour', at(0))).length, 1, 'another resolution is left alone');
      });
    });

    describe('counts', () => {
      it('counts jobs per type and status, following writes', async () => {
        assert.deepEqual(await store.counts(), {});
        const a1 = makeJob({ type: 'a' });
        const a2 = makeJob({ type: 'a' });
        const a3 = makeJob({ type: 'a', status: 'ready' });
        const b1 = makeJob({ type: 'b', status: 'completed' });
        await insert(store, a1, a2, a3, b1);
        assert.deepEqual(await store.counts(), { a: { waiting: 2, ready: 1 }, b: { completed: 1 } });
        await store.transaction(async (tx) => {
          await tx.update(a1._id, { status: 'ready' });
          await tx.remove([b1._id]);
        });
        assert.deepEqual(await store.counts(), { a: { waiting: 1, ready: 2 } });
      });
    });

    describe('nextPromotionTime', () => {
      it('is the earliest after of waiting jobs without pending depends', async () => {
        assert.equal(await store.nextPromotionTime(), undefined);
        const blocked = makeJob({ after: at(1), depends: ['x'] });
        const ready = makeJob({ status: 'ready', after: at(2) });
        const soon = makeJob({ after: at(3) });
        const later = makeJob({ after: at(4) });
        await insert(store, blocked, ready, later, soon);
        assert.deepEqual(await store.nextPromotionTime(), at(3));
        await store.transaction((tx) => tx.update(soon._id, { status: 'paused' }));
        assert.deepEqual(await store.nextPromotionTime(), at(4));
        await store.transaction((tx) => tx.update(blocked._id, { depends: [], resolved: ['x'] }));
        assert.deepEqual(await store.nextPromotionTime(), at(1));
      });
    });

    describe('onCommit', () => {
      it('reports inserts, updates and removals once committed', async () => {
        const seen: Omit<JobChange, 'doc'>[][] = [];
        store.onCommit((changes) => seen.push(changes.map(withoutDoc)));
        const job = makeJob({ type: 'k' });
        await insert(store, job);
        await store.transaction((tx) => tx.update(job._id, { status: 'ready' }));
        await store.transaction((tx) => tx.update(job._id, { status: 'cancelled' }, { statuses: ['running'] }));
        await store.transaction((tx) => tx.remove([job._id]));
        assert.deepEqual(seen, [
          [{ id: job._id, type: 'k', previousStatus: null, status: 'waiting' }],
          [{ id: job._id, type: 'k', previousStatus: 'waiting', status: 'ready' }],
          [{ id: job._id, type: 'k', previousStatus: 'ready', status: null }],
        ]);
      });

      it('collapses the changes of one job in a transaction, and calls before the transaction resolves', async () => {
        const seen: Omit<JobChange, 'doc'>[][] = [];
        store.onCommit((changes) => seen.push(changes.map(withoutDoc)));
        const job = makeJob({ type: 'k' });
        const other = makeJob({ type: 'k', status: 'ready' });
        await insert(store, other);
        seen.length = 0;
        await store.transaction(async (tx) => {
          await tx.insert(job, []);
          await tx.update(job._id, { status: 'ready' });
          await tx.update(other._id, { status: 'running', runId: 'r' });
          await tx.update(job._id, { status: 'running', runId: 'r' });
          assert.equal(seen.length, 0);
        });
        assert.deepEqual(seen, [
          [
            { id: job._id, type: 'k', previousStatus: null, status: 'running' },
            { id: other._id, type: 'k', previousStatus: 'ready', status: 'running' },
          ],
        ]);
      });

      it('reports nothing for a rolled-back or read-only transaction', async () => {
        const seen: JobChange[][] = [];
        store.onCommit((changes) => seen.push([...changes]));
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insert(makeJob(), []);
            throw new Error('undo');
          }),
        );
        await store.transaction((tx) => tx.find({}));
        await store.transaction((tx) => tx.update('missing', { priority: 1 }));
        assert.deepEqual(seen, []);
      });

      it('survives a throwing listener and stops calling after unsubscribe', async () => {
        const seen: string[] = [];
        store.onCommit(() => {
          throw new Error('listener bug');
        });
        const unsubscribe = store.onCommit((changes) => seen.push(...changes.map((change) => change.id)));
        const first = makeJob();
        await insert(store, first);
        unsubscribe();
        const second = makeJob();
        await insert(store, second);
        assert.deepEqual(seen, [first._id]);
        assert.equal((await store.getJobs([first._id, second._id])).length, 2);
      });
    });

    describe('chains', () => {
      const chain = (id: string, overrides: Partial<StoredChain> = {}): StoredChain => ({
        _id: id,
        name: 'a chain',
        links: [{ type: 'first', data: { when: at(1) } }, { type: 'second' }],
        jobIds: [],
        callbackAt: 1,
        status: 'running',
        depth: 0,
        created: at(0),
        updated: at(0),
        ...overrides,
      });

      it('inserts, reads back (EJSON types kept), updates and finds chains by parent', async () => {
        await store.transaction(async (tx) => {
          await tx.insertChain(chain('c1'));
          await tx.insertChain(chain('c2', { parent: 'p1' }));
          await tx.insertChain(chain('c3', { parent: 'p1', status: 'completed' }));
        });
        const [c1] = await store.getChains(['c1']);
        assert.deepEqual(c1, chain('c1'));
        assert.ok(c1?.links[0]?.data?.when instanceof Date);
        const outcome = { ok: true as const, jobId: 'j2', index: 1, result: { n: 1 } };
        assert.equal(await read(store, (tx) => tx.updateChain('c1', { jobIds: ['j1', 'j2'], status: 'completed', outcome })), true);
        assert.equal(await read(store, (tx) => tx.updateChain('missing', { status: 'failed' })), false);
        assert.deepEqual(await read(store, (tx) => tx.getChain('c1')), { ...chain('c1'), jobIds: ['j1', 'j2'], status: 'completed', outcome });
        assert.deepEqual(idsOf(await read(store, (tx) => tx.chainsOf('p1'))), ['c2', 'c3']);
        assert.deepEqual(idsOf(await read(store, (tx) => tx.chainsOf('p1', ['running']))), ['c2']);
        assert.deepEqual(await read(store, (tx) => tx.chainsOf('nobody')), []);
        assert.deepEqual(idsOf(await store.getChains(['c2', 'missing', 'c2'])), ['c2']);
      });

      it('tells the feed which chain a changed job is a link of', async () => {
        const seen: JobChange[] = [];
        store.onCommit((changes) => seen.push(...changes));
        const link = makeJob({ chain: { id: 'c9', index: 0, length: 1 } });
        await insert(store, link);
        await read(store, (tx) => tx.update(link._id, { status: 'ready' }));
        assert.deepEqual(seen.map((change) => change.chainId), ['c9', 'c9']);
        assert.deepEqual(seen.map((change) => change.doc?.status), ['waiting', 'ready'], 'each change carries the job as it left it');
      });
    });

    describe('scan', () => {
      it('reads every job whole (log and failures too), page by page in id order', async () => {
        const ids = ['scan-c', 'scan-a', 'scan-e', 'scan-b', 'scan-d'];
        await store.transaction(async (tx) => {
          for (const id of ids) await tx.insert(makeJob({ _id: id, failures: [{ runId: 'r' }] }), [makeLogEntry(`made ${id}`)]);
        });
        await store.transaction((tx) => tx.update('scan-b', { status: 'running', runId: 'r', _private: { claimedBy: 'c', server: 's' } }));
        const first = await store.scanJobs(undefined, 2);
        const second = await store.scanJobs(first.at(-1)?._id, 2);
        const third = await store.scanJobs(second.at(-1)?._id, 2);
        assert.deepEqual([first, second, third].map(idsOf), [['scan-a', 'scan-b'], ['scan-c', 'scan-d'], ['scan-e']]);
        assert.deepEqual(await store.scanJobs('scan-e', 2), []);
        assert.deepEqual(await store.scanJobs(undefined, 0), []);
        const [a, b] = first;
        assert.deepEqual(a?.log.map((entry) => entry.message), ['made scan-a']);
        assert.deepEqual(a?.failures, [{ runId: 'r' }]);
        assert.deepEqual(b?._private, { claimedBy: 'c', server: 's' }, 'a claim is part of the job');
      });

      it('reads every chain, page by page in id order', async () => {
        const chain = (id: string): StoredChain => ({
          _id: id, links: [{ type: 'x' }], jobIds: [], callbackAt: 0, status: 'running', depth: 0, created: at(0), updated: at(0),
        });
        await store.transaction(async (tx) => {
          for (const id of ['k3', 'k1', 'k2']) await tx.insertChain(chain(id));
        });
        assert.deepEqual(idsOf(await store.scanChains(undefined, 2)), ['k1', 'k2']);
        assert.deepEqual(await store.scanChains('k2', 2), [chain('k3')]);
      });
    });

    describe('close', () => {
      it('lets queued transactions finish, then refuses every call', async () => {
        const job = makeJob();
        const queued = store.transaction((tx) => tx.insert(job, []));
        const closing = store.close();
        await queued;
        await closing;
        await store.close();
        await assert.rejects(store.transaction((tx) => tx.find({})), /closed/);
        await assert.rejects(store.getJobs([job._id]), /closed/);
        await assert.rejects(store.list({}, { limit: 1, order: 'created-asc' }), /closed/);
        await assert.rejects(store.counts(), /closed/);
        await assert.rejects(store.nextPromotionTime(), /closed/);
      });
    });
  });
}
