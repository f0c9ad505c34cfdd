// Compatibility scenarios: what a user of the ORIGINAL client stack (meteor-job@1.5.2 over
// ddp@0.12.1) observes against a real Cumulus server, asserted as docs/PROTOCOL.md states
// it (§2 methods, §3 documents and rules, §4 client), plus the deliberate differences of its §8. Every scenario starts its own server and client.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import later from '@breejs/later';
import {
  assertMeteorError,
  assertTimeBetween,
  claim,
  claimWhenReady,
  fetchDoc,
  findLog,
  getOne,
  getWork,
  Job,
  lastLog,
  messages,
  meteorId,
  patience,
  rejectionOf,
  root,
  save,
  statusOf,
  viaCallback,
  waitFor,
  waitForStatus,
  withServer,
  within,
  type Doc,
  type LogEntry,
  type MeteorError,
  type MeteorJobClient,
} from './compat-helpers.ts';
import { connectMeteorJob } from '../helpers/meteor-job-client.ts';

type JobQueue = ReturnType<typeof Job.processJobs>;
type Callback<T> = (error: unknown, result: T) => void;

const forever = 9007199254740992;
const foreverMs = 8640000000000000;

const pick = (object: object, keys: string[]): Record<string, unknown> =>
  Object.fromEntries(keys.map((key) => [key, (object as Record<string, unknown>)[key]]));
const entry = (log: LogEntry) => pick(log, ['message', 'level', 'runId']);
const ms = (value: unknown): number => {
  assert.ok(value instanceof Date, `a Date, got ${JSON.stringify(value)}`);
  return value.getTime();
};

// meteor-job's callback API, as a user calls it.
const done = (job: Job, result: unknown = {}, options?: { repeatId?: boolean; delayDeps?: number }) =>
  viaCallback<boolean | string>((cb) => (options === undefined ? job.done(result, cb) : job.done(result, options, cb)));
const fail = (job: Job, error: unknown, options?: { fatal?: boolean }) =>
  viaCallback<boolean>((cb) => (options === undefined ? job.fail(error, cb) : job.fail(error, options, cb)));
const cancel = (job: Job, options?: { antecedents?: boolean; dependents?: boolean }) =>
  viaCallback<boolean>((cb) => (options === undefined ? job.cancel(cb) : job.cancel(options, cb)));
const restart = (job: Job) => viaCallback<boolean>((cb) => job.restart(cb));
const batch = (
  name: 'pauseJobs' | 'resumeJobs' | 'cancelJobs' | 'restartJobs' | 'removeJobs' | 'readyJobs',
  ids: string[],
  options?: Record<string, unknown>,
) =>
  viaCallback<boolean>((cb) => {
    const call = Job[name] as (root: string, ids: string[], ...rest: unknown[]) => void;
    if (options === undefined) call(root, ids, cb);
    else call(root, ids, options, cb);
  });
const stopQueue = (queue: JobQueue) => new Promise<void>((resolve) => queue.shutdown({ level: 'soft', quiet: true }, () => resolve()));
const saveId = async (job: Job, options?: { cancelRepeats?: boolean }): Promise<string> => {
  const id = await save(job, options);
  assert.ok(typeof id === 'string' && meteorId.test(id), `jobSave returns a Meteor id, got ${JSON.stringify(id)}`);
  return id;
};
const statuses = async (client: MeteorJobClient, ids: string[]) => Promise.all(ids.map((id) => statusOf(client, id)));

describe('compatibility scenarios: meteor-job@1.5.2 over ddp@0.12.1', () => {
  it('01 save, claim, log and complete: ids, runId, statuses and the server log (§2.3, §3.3, §3.7)', () =>
    withServer({}, async ({ client }) => {
      const job = new Job(root, 'lifecycle', { n: 1 });
      const id = await saveId(job);
      assert.equal(job.doc._id, id, 'save stores the id on the job');
      assert.equal(await statusOf(client, id), 'ready', 'a job without delay or dependencies is ready at once');

      const running = await claim('lifecycle');
      assert.equal(running.doc._id, id);
      const runId = running.doc.runId;
      assert.ok(typeof runId === 'string' && runId.length > 0, 'getWork docs carry a runId');
      assert.equal(running.doc.status, 'running');
      assert.equal(running.doc.retries, 0, 'retries counts attempts left');
      assert.equal(running.doc.retried, 1);
      assert.deepEqual(running.data, { n: 1 });
      for (const key of ['log', 'failures', '_private', 'workTimeout', 'expiresAfter']) {
        assert.equal(key in running.doc, false, `getWork omits ${key}`);
      }

      assert.equal(await viaCallback((cb) => running.log('working', cb)), true);
      assert.equal(await done(running, 'ok'), true);
      assert.equal(await done(running, 'again'), false, 'a second done is refused');

      const doc = await fetchDoc(client, id);
      assert.equal(doc.status, 'completed');
      assert.equal(doc.runId, runId, 'completed jobs keep their runId');
      assert.deepEqual(doc.result, { value: 'ok' }, 'a non-object result arrives as {value}');
      assert.deepEqual(doc.progress, { completed: 1, total: 1, percent: 100 });
      assert.deepEqual(messages(doc), ['Constructed', 'Job Submitted', 'Promoted to ready', 'Job Running', 'working', 'Job Completed']);
      assert.deepEqual(doc.log?.map((e) => e.level), ['info', 'info', 'info', 'info', 'info', 'success']);
      assert.deepEqual(doc.log?.map((e) => e.runId), [null, null, null, runId, runId, runId]);
      assert.ok(doc.log?.every((e) => e.time instanceof Date), 'log times are Dates');

      const order: string[] = [];
      await new Promise<void>((resolve) => {
        const note = (what: string) => {
          order.push(what);
          if (order.length === 2) resolve();
        };
        client.ddp.call(`${root}_jobLog`, [id, null, 'ordered', {}], () => note('result'), () => note('updated'));
      });
      assert.deepEqual(order, ['result', 'updated'], 'result, then updated (§1.6)');
    }));

  it('02 jobSave defaults and normalization: after, retryUntil, repeatUntil, created (§2.3 jobSave, §3.1)', () =>
    withServer({}, async ({ client }) => {
      const t0 = Date.now();
      const plain = new Job(root, 'norm', {});
      plain.doc.created = new Date(1000);
      const plainId = await saveId(plain);
      const past = new Date(t0 - 3_600_000);
      const pastId = await saveId(new Job(root, 'norm', {}).after(past).retry({ retries: 2, until: past }).repeat({ repeats: 1, until: past }));
      const delayed = new Job(root, 'norm', {}).delay(60_000);
      delayed.doc.created = new Date(1000);
      delayed.doc.updated = new Date(1000);
      const sentAfter = ms(delayed.doc.after);
      const delayedId = await saveId(delayed);
      const t1 = Date.now();

      const p = await fetchDoc(client, plainId, {});
      assert.equal(p.status, 'ready');
      assertTimeBetween(p.after, t0, t1, 'after (client default: epoch, meaning now)');
      assertTimeBetween(p.created, t0, t1, 'created (replaced at insert)');
      assert.equal(ms(p.retryUntil), foreverMs, 'retryUntil defaults to foreverDate');
      assert.equal(ms(p.repeatUntil), foreverMs, 'repeatUntil defaults to foreverDate');
      assert.deepEqual(
        pick(p, ['runId', 'priority', 'retries', 'retried', 'repeatRetries', 'retryWait', 'retryBackoff', 'repeats', 'repeated', 'repeatWait', 'depends', 'resolved', 'progress']),
        {
          runId: null,
          priority: 0,
          retries: 1,
          retried: 0,
          repeatRetries: 1,
          retryWait: 300000,
          retryBackoff: 'constant',
          repeats: 0,
          repeated: 0,
          repeatWait: 300000,
          depends: [],
          resolved: [],
          progress: { completed: 0, total: 1, percent: 0 },
        },
      );

      const q = await fetchDoc(client, pastId, {});
      assert.equal(q.status, 'ready');
      assertTimeBetween(q.after, t0, t1, 'an after in the past becomes now');
      assertTimeBetween(q.retryUntil, t0, t1, 'a retryUntil in the past becomes now');
      assertTimeBetween(q.repeatUntil, t0, t1, 'a repeatUntil in the past becomes now');
      assert.equal(q.retries, 3, 'retry(2) stores retries 3');
      assert.equal(q.repeats, 1);

      const d = await fetchDoc(client, delayedId, {});
      assert.equal(d.status, 'waiting', 'a delayed job waits');
      assert.equal(ms(d.after), sentAfter, 'a future after is kept to the millisecond');
      assertTimeBetween(d.created, t0, t1, 'created is server time');
      assertTimeBetween(d.updated, t0, t1, 'updated is server time (README: differences from upstream)');
    }));

  it('03 priorities order getWork across calls, then retryUntil, then after, then creation (§2.3 getWork, §3.2)', () =>
    withServer({}, async ({ client }) => {
      const specs: [string, string | number][] = [
        ['low', 'low'],
        ['normal', 'normal'],
        ['three', 3],
        ['critical', 'critical'],
        ['medium', 'medium'],
        ['high', 'high'],
        ['normal-2', 'normal'],
      ];
      for (const [name, priority] of specs) await saveId(new Job(root, 'prio', { name }).priority(priority));
      const order: unknown[] = [];
      const priorities: unknown[] = [];
      for (let i = 0; i < specs.length; i += 1) {
        const job = await claim('prio');
        order.push(job.data.name);
        priorities.push(job.doc.priority);
      }
      assert.deepEqual(order, ['critical', 'high', 'medium', 'normal', 'normal-2', 'three', 'low']);
      assert.deepEqual(priorities, [-15, -10, -5, 0, 0, 3, 10]);
      assert.equal(await getOne('prio'), undefined, 'no more work: getWork without maxJobs yields undefined');

      await saveId(new Job(root, 'prio-until', { name: 'forever' }));
      await saveId(new Job(root, 'prio-until', { name: 'soon' }).retry({ retries: 1, until: new Date(Date.now() + 3_600_000) }));
      const firsts = [(await claim('prio-until')).data.name, (await claim('prio-until')).data.name];
      assert.deepEqual(firsts, ['soon', 'forever'], 'equal priority: the earlier retryUntil first');

      const delayedId = await saveId(new Job(root, 'prio-after', { name: 'created-first' }).delay(300));
      await saveId(new Job(root, 'prio-after', { name: 'created-second' }));
      await waitForStatus(client, delayedId, 'ready');
      const byAfter = [(await claim('prio-after')).data.name, (await claim('prio-after')).data.name];
      assert.deepEqual(byAfter, ['created-second', 'created-first'], 'equal priority and retryUntil: the earlier after first');

      await saveId(new Job(root, 'prio-x', { name: 'x-low' }).priority('low'));
      await saveId(new Job(root, 'prio-y', { name: 'y-critical' }).priority('critical'));
      const mixed = await getWork(['prio-x', 'prio-y'], { maxJobs: 1 });
      assert.deepEqual(mixed.map((job) => job.data.name), ['y-critical'], 'priority orders across the listed types');
    }));

  it('04 getWork maxJobs and type lists: one runId per call, arrays always (§2.3 getWork, §4.2)', () =>
    withServer({}, async ({ client }) => {
      for (let i = 0; i < 5; i += 1) await saveId(new Job(root, 'batch-a', { i }));
      for (let i = 0; i < 2; i += 1) await saveId(new Job(root, 'batch-b', { i }));

      const first = await getWork(['batch-a', 'batch-b'], { maxJobs: 4 });
      assert.equal(first.length, 4);
      assert.ok(first.every((job) => job instanceof Job && job.doc.status === 'running'));
      assert.equal(new Set(first.map((job) => job.doc.runId)).size, 1, 'one runId shared by the whole batch');
      assert.equal(new Set(first.map((job) => job.doc._id)).size, 4);
      assert.deepEqual(first.map((job) => `${job.type}:${String(job.data.i)}`).sort(), ['batch-a:0', 'batch-a:1', 'batch-a:2', 'batch-a:3']);

      const second = await getWork('batch-a', { maxJobs: 10 });
      assert.equal(second.length, 1, 'fewer than maxJobs when fewer are ready');
      assert.notEqual(second[0]?.doc.runId, first[0]?.doc.runId, 'a new runId per getWork call');
      assert.equal((await getWork(['batch-b'], { maxJobs: 1 })).length, 1);
      const single = await getOne('batch-b');
      assert.ok(single instanceof Job, 'without maxJobs the client yields the first job');
      assert.deepEqual(await getWork(['batch-a', 'batch-b'], { maxJobs: 3 }), []);
      assert.equal(await getOne('batch-a'), undefined);
      assert.deepEqual(await client.call(`${root}_getWork`, 'batch-a'), [], 'a string type and no options: still an array');
      assert.deepEqual(await client.call(`${root}_getWork`, ['nothing-here'], { maxJobs: 2 }), []);
      assert.deepEqual(await client.call(`${root}_getWork`, [], {}), [], 'an empty type list matches nothing');
    }));

  it('05 Job.processJobs with payload > 1 hands the worker arrays, even of one (§4.3)', () =>
    withServer({}, async () => {
      for (let i = 0; i < 7; i += 1) await saveId(new Job(root, 'payload', { i }));
      const batches: number[] = [];
      const completed = new Set<number>();
      const errors: Error[] = [];
      let nonArrays = 0;
      const leases = new Set<unknown>();
      const queue = Job.processJobs(root, 'payload', { payload: 3, pollInterval: 100, workTimeout: 60_000, errorCallback: (e) => errors.push(e) }, (jobs, cb) => {
        if (!Array.isArray(jobs)) {
          nonArrays += 1;
          cb();
          return;
        }
        batches.push(jobs.length);
        for (const job of jobs) leases.add(job.doc.workTimeout);
        let left = jobs.length;
        for (const job of jobs) {
          job.done({}, (error: unknown, ok: unknown) => {
            if (!error && ok === true) completed.add(job.data.i as number);
            left -= 1;
            if (left === 0) cb();
          });
        }
      });
      try {
        await waitFor(() => completed.size === 7, { ...patience, description: '7 payload jobs done' });
        await saveId(new Job(root, 'payload', { i: 7 }));
        queue.trigger();
        await waitFor(() => completed.size === 8, { ...patience, description: 'the 8th payload job done' });
      } finally {
        await stopQueue(queue);
      }
      assert.equal(nonArrays, 0, 'payload > 1: always an array');
      assert.deepEqual(batches, [3, 3, 1, 1]);
      assert.deepEqual([...leases], [60_000], "the queue's workTimeout reaches every claim");
      assert.deepEqual(errors, []);
    }));

  it('06 Job.processJobs concurrency and prefetch: maxJobs = prefetch + concurrency, never more in flight (§4.3)', () =>
    withServer({}, async ({ client }) => {
      const ids: string[] = [];
      for (let i = 0; i < 10; i += 1) ids.push(await saveId(new Job(root, 'conc', { i })));
      let inFlight = 0;
      let maxInFlight = 0;
      let finished = 0;
      const seen = new Map<number, number>();
      const held: { job: Job; cb: () => void }[] = [];
      const errors: Error[] = [];
      const queue = Job.processJobs(root, 'conc', { concurrency: 3, prefetch: 2, pollInterval: 100, errorCallback: (e) => errors.push(e) }, (job, cb) => {
        const single = job as Job;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        seen.set(single.data.i as number, (seen.get(single.data.i as number) ?? 0) + 1);
        held.push({ job: single, cb });
      });
      try {
        await waitFor(() => queue.running() === 3 && queue.length() === 2, { ...patience, description: '3 running and 2 prefetched' });
        const states = await statuses(client, ids);
        assert.equal(states.filter((s) => s === 'running').length, 5, 'prefetched jobs are claimed on the server too');
        await waitFor(
          () => {
            for (const { job, cb } of held.splice(0)) {
              job.done({}, () => {
                inFlight -= 1;
                finished += 1;
                cb();
              });
            }
            return finished === 10;
          },
          { ...patience, description: '10 jobs done' },
        );
      } finally {
        await stopQueue(queue);
      }
      assert.equal(maxInFlight, 3, 'exactly the concurrency in flight at most');
      assert.equal(seen.size, 10);
      assert.ok([...seen.values()].every((n) => n === 1), 'each job processed once');
      assert.deepEqual(new Set(await statuses(client, ids)), new Set(['completed']));
      assert.deepEqual(errors, []);
    }));

  it('07 an expired workTimeout fails the job at the promotion pass; the late worker is refused (§3.7)', () =>
    withServer({ CUMULUS_PROMOTE_INTERVAL_MS: '50' }, async ({ client }) => {
      const id = await saveId(new Job(root, 'lease', {}));
      const t0 = Date.now();
      const [job] = await getWork('lease', { maxJobs: 1, workTimeout: 300 });
      const t1 = Date.now();
      assert.ok(job);
      const runId = job.doc.runId;
      assert.equal(job.doc.workTimeout, 300);
      assertTimeBetween(job.doc.expiresAfter, t0 + 300, t1 + 300, 'expiresAfter = claim + workTimeout');

      await waitForStatus(client, id, 'failed');
      const doc = await fetchDoc(client, id);
      assert.equal(doc.runId, null);
      assert.deepEqual(doc.failures, [{ value: 'Failed for exceeding worker set workTimeout', runId }]);
      assert.deepEqual(entry(lastLog(doc)), {
        message: 'Job Failed with Fatal Error: Failed for exceeding worker set workTimeout.',
        level: 'danger',
        runId,
      });
      assert.equal(await done(job), false, 'done from the expired run is refused');
      assert.equal(await viaCallback((cb) => job.progress(1, 2, cb)), false);
      assert.equal(await fail(job, 'late'), false);
      assert.equal(await viaCallback((cb) => job.log('late log', cb)), true, 'jobLog accepts any runId');
    }));

  it('08 progress and log extend the lease; an expiry with retries left retries; a claim without workTimeout unsets it (§2.3, §3.7)', () =>
    withServer({ CUMULUS_PROMOTE_INTERVAL_MS: '50' }, async ({ client }) => {
      const id = await saveId(new Job(root, 'heartbeat', {}).retry({ retries: 1, wait: 0 }));
      const [job] = await getWork('heartbeat', { maxJobs: 1, workTimeout: 600 });
      assert.ok(job);
      const runId = job.doc.runId;
      const claimedAt = Date.now();
      let beats = 0;
      await waitFor(
        async () => {
          const ok =
            beats % 2 === 0
              ? await viaCallback((cb) => job.progress(beats, 100, cb))
              : await viaCallback((cb) => job.log(`beat ${beats}`, cb));
          assert.equal(ok, true, `heartbeat ${beats} accepted`);
          beats += 1;
          return Date.now() - claimedAt > 1800;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      assert.equal(await statusOf(client, id), 'running', 'progress and log kept the 600 ms lease alive for 1.8 s');
      const before = Date.now();
      assert.equal(await viaCallback((cb) => job.log('last beat', cb)), true);
      const extended = await fetchDoc(client, id, {});
      assertTimeBetween(extended.expiresAfter, before + 600, Date.now() + 600, 'expiresAfter after jobLog');

      await waitFor(async () => (await fetchDoc(client, id)).failures?.length === 1, { ...patience, description: 'the lease expired' });
      const failedOnce = await fetchDoc(client, id);
      assert.deepEqual(entry(findLog(failedOnce, 'Job Failed with Error: Failed for exceeding worker set workTimeout.')), {
        message: 'Job Failed with Error: Failed for exceeding worker set workTimeout.',
        level: 'warning',
        runId,
      });
      const again = await claimWhenReady(client, id);
      assert.notEqual(again.doc.runId, runId);
      assert.equal(again.doc.retried, 2);
      assert.equal(again.doc.retries, 0);
      assert.equal('workTimeout' in again.doc, false, 'a claim without workTimeout unsets workTimeout');
      assert.equal('expiresAfter' in again.doc, false, 'a claim without workTimeout unsets expiresAfter');
      assert.equal(await done(job), false, 'the expired run cannot complete');
      assert.equal(await done(again), true);
    }));

  it('09 repeats with a numeric wait: clone fields, repeatId, repeatUntil (§3.5)', () =>
    withServer({}, async ({ client }) => {
      let current = await saveId(new Job(root, 'repeat', { k: 1 }).retry({ retries: 2, wait: 0 }).repeat({ repeats: 2, wait: 0 }));
      const seen = [current];
      for (let round = 1; round <= 2; round += 1) {
        const job = await claimWhenReady(client, current);
        const runId = job.doc.runId;
        const next = await done(job, { round }, { repeatId: true });
        assert.ok(typeof next === 'string' && meteorId.test(next), `done with repeatId answers the repeat's id, got ${String(next)}`);
        assert.ok(!seen.includes(next));
        seen.push(next);
        const doc = await fetchDoc(client, next);
        assert.equal(doc.status, 'ready', 'a repeat with wait 0 is ready at once');
        assert.deepEqual(pick(doc, ['type', 'data', 'runId', 'repeats', 'repeated', 'retries', 'retried', 'repeatRetries', 'progress']), {
          type: 'repeat',
          data: { k: 1 },
          runId: null,
          repeats: 2 - round,
          repeated: round,
          retries: 3,
          retried: 0,
          repeatRetries: 3,
          progress: { completed: 0, total: 1, percent: 0 },
        });
        assert.equal(ms(doc.retryUntil), ms(doc.repeatUntil), 'retryUntil = repeatUntil');
        for (const key of ['result', 'failures', 'workTimeout', 'expiresAfter']) assert.equal(key in doc, false, `the clone drops ${key}`);
        assert.deepEqual(messages(doc), ['Rerunning job', 'Promoted to ready']);
        assert.deepEqual(doc.log?.[0]?.data, { previousJob: { id: current, runId } }, 'server log data kept (README)');
        const old = await fetchDoc(client, current, {});
        assert.equal(old.status, 'completed');
        assert.deepEqual(old.result, { round });
        current = next;
      }
      const last = await claimWhenReady(client, current);
      assert.equal(await done(last, {}, { repeatId: true }), true, 'no repeats left: true, not an id');

      await saveId(new Job(root, 'repeat-wait', {}).repeat({ repeats: 1, wait: 700 }));
      const waiting = await claim('repeat-wait');
      const t0 = Date.now();
      const nextId = await done(waiting, {}, { repeatId: true });
      const t1 = Date.now();
      assert.equal(typeof nextId, 'string');
      const nextDoc = await fetchDoc(client, nextId as string, {});
      assertTimeBetween(nextDoc.after, t0 + 700, t1 + 700, 'the repeat runs repeatWait after done');
      if (Date.now() < ms(nextDoc.after) - 100) assert.equal(nextDoc.status, 'waiting');
      await waitForStatus(client, nextId as string, 'ready');

      await saveId(new Job(root, 'repeat-until', {}).repeat({ repeats: 5, wait: 60_000, until: new Date(Date.now() + 30_000) }));
      const bounded = await claim('repeat-until');
      assert.equal(await done(bounded, {}, { repeatId: true }), true, 'repeatUntil − repeatWait < now: no repeat');
    }));

  it('10 repeats on a later.js schedule; schedules without a usable occurrence are refused (§2.3 jobSave, §3.5)', () =>
    withServer({}, async ({ client }) => {
      const text = later.parse.text('every 2 seconds');
      const schedule = { schedules: text.schedules, exceptions: text.exceptions };
      const t0 = Date.now();
      const id = await saveId(new Job(root, 'sched', { s: 1 }).repeat({ repeats: 1, schedule }));
      const t1 = Date.now();
      const doc = await fetchDoc(client, id, {});
      assert.deepEqual(doc.repeatWait, schedule, 'the schedule is stored as repeatWait');
      const after = ms(doc.after);
      assert.ok(after > t0 && after <= t1 + 3000, `after is the next occurrence: ${new Date(after).toISOString()} vs saved at ${new Date(t0).toISOString()}`);

      const job = await claimWhenReady(client, id);
      assert.ok(Date.now() >= after, 'not claimable before its first occurrence');
      const d0 = Date.now();
      const nextId = await done(job, {}, { repeatId: true });
      const d1 = Date.now();
      assert.ok(typeof nextId === 'string', 'a scheduled repeat is made');
      const next = await fetchDoc(client, nextId);
      const nextAfter = ms(next.after);
      assert.ok(nextAfter - d0 > 500, `the next occurrence is more than 500 ms away: ${nextAfter - d0} ms`);
      assert.ok(nextAfter <= d1 + 4500, `and at most two occurrences ahead: ${nextAfter - d1} ms`);
      assert.deepEqual(pick(next, ['repeats', 'repeated', 'repeatWait']), { repeats: 0, repeated: 1, repeatWait: schedule });
      assert.deepEqual(messages(next).slice(0, 1), ['Rerunning job']);
      const second = await claimWhenReady(client, nextId);
      assert.equal(await done(second, {}, { repeatId: true }), true, 'repeats exhausted');

      // meteor-job's rerun sends wait = repeatWait, here the schedule: README says it means the next occurrence.
      const r0 = Date.now();
      const rerunId = await viaCallback<string | false>((cb) => second.rerun(cb));
      const r1 = Date.now();
      assert.ok(typeof rerunId === 'string', 'a rerun with a schedule wait is made');
      const rerun = await fetchDoc(client, rerunId, {});
      const rerunAfter = ms(rerun.after);
      assert.ok(!Number.isNaN(rerunAfter) && rerunAfter >= r0 && rerunAfter <= r1 + 4500, `rerun after is the next occurrence: ${rerunAfter - r0} ms`);
      await waitForStatus(client, rerunId, 'ready');

      // later.js evaluates in UTC: "at 3:00 am" is 03:00Z.
      const daily = later.parse.text('at 3:00 am');
      const dailySchedule = { schedules: daily.schedules, exceptions: daily.exceptions };
      const now = new Date();
      let next3 = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 3);
      if (next3 <= Date.now() + 1000) next3 += 86_400_000;
      const dailyId = await saveId(new Job(root, 'sched-daily', {}).repeat({ schedule: dailySchedule }));
      assert.equal(new Date(ms((await fetchDoc(client, dailyId, {})).after)).toISOString(), new Date(next3).toISOString(), 'the next 03:00 UTC');
      // An after exactly on an occurrence starts at the following one (strictly after the last occurrence ≤ after).
      const onId = await saveId(new Job(root, 'sched-daily', {}).repeat({ schedule: dailySchedule }).after(new Date(next3)));
      assert.equal(new Date(ms((await fetchDoc(client, onId, {})).after)).toISOString(), new Date(next3 + 86_400_000).toISOString());
      const offId = await saveId(new Job(root, 'sched-daily', {}).repeat({ schedule: dailySchedule }).after(new Date(next3 + 60_000)));
      assert.equal(new Date(ms((await fetchDoc(client, offId, {})).after)).toISOString(), new Date(next3 + 86_400_000).toISOString());

      assert.equal(await save(new Job(root, 'sched-past', {}).repeat({ schedule: { schedules: [{ Y: [2001] }] } })), null, 'no occurrence after now: null');
      assert.equal(
        await save(new Job(root, 'sched-late', {}).repeat({ schedule: { schedules: [{ Y: [2090] }] }, until: new Date(Date.now() + 86_400_000) })),
        null,
        'first occurrence after repeatUntil: null',
      );
      assert.deepEqual(await getWork(['sched-past', 'sched-late'], { maxJobs: 5 }), []);
    }));

  it('11 rerun: client default wait, explicit wait/repeats/until, required wait key, completed only (§2.3 jobRerun, §3.5)', () =>
    withServer({}, async ({ client }) => {
      const id = await saveId(new Job(root, 'rerun', { v: 1 }));
      const job = await claim('rerun');
      const runId = job.doc.runId;
      assert.equal(await viaCallback((cb) => job.rerun({ wait: 0 }, cb)), false, 'only completed jobs rerun');
      assert.equal(await done(job, { first: true }), true);

      const a = await viaCallback<string | false>((cb) => job.rerun({ wait: 0 }, cb));
      assert.ok(typeof a === 'string' && a !== id);
      const aDoc = await fetchDoc(client, a);
      assert.deepEqual(pick(aDoc, ['status', 'type', 'data', 'repeats', 'repeated', 'retries', 'retried', 'runId']), {
        status: 'ready',
        type: 'rerun',
        data: { v: 1 },
        repeats: 0,
        repeated: 1,
        retries: 1,
        retried: 0,
        runId: null,
      });
      assert.equal('result' in aDoc, false);
      assert.deepEqual(pick(aDoc.log?.[0] ?? {}, ['message', 'level', 'data']), { message: 'Rerunning job', level: 'info', data: { previousJob: { id, runId } } });

      const t0 = Date.now();
      const b = await viaCallback<string | false>((cb) => job.rerun(cb));
      const t1 = Date.now();
      assert.equal(typeof b, 'string');
      const bDoc = await fetchDoc(client, b as string, {});
      assert.equal(bDoc.status, 'waiting', "meteor-job sends wait = the job's repeatWait (300000)");
      assertTimeBetween(bDoc.after, t0 + 300_000, t1 + 300_000, 'rerun after');

      const until = new Date(Date.now() + 3_600_000);
      const c = await viaCallback<string | false>((cb) => job.rerun({ repeats: 2, wait: 0, until }, cb));
      const cDoc = await fetchDoc(client, c as string, {});
      assert.equal(cDoc.repeats, 2);
      assert.equal(ms(cDoc.repeatUntil), until.getTime());
      assert.equal(ms(cDoc.retryUntil), until.getTime(), 'retryUntil = repeatUntil');

      assertMeteorError(await rejectionOf(client.call(`${root}_jobRerun`, id, { repeats: 0 })), 400, 'Match failed');
      const d = await client.call(`${root}_jobRerun`, id);
      assert.ok(typeof d === 'string', 'options omitted: server defaults (wait 0)');
      assert.equal(await statusOf(client, d), 'ready');
      assert.equal(await client.call(`${root}_jobRerun`, 'no-such-job', { wait: 0 }), false);
    }));

  it('12 dependencies at save: completed resolves, failed/cancelled/missing cancel (null), pending waits (§3.6)', () =>
    withServer({}, async ({ client }) => {
      const pending = new Job(root, 'dep-pending', {});
      const pendingId = await saveId(pending);
      const completed = new Job(root, 'dep-completed', {});
      const completedId = await saveId(completed);
      const completedRun = await claim('dep-completed');
      assert.equal(await done(completedRun), true);
      const failed = new Job(root, 'dep-failed', {});
      await saveId(failed);
      assert.equal(await fail(await claim('dep-failed'), 'no'), true);
      const cancelled = new Job(root, 'dep-cancelled', {});
      await saveId(cancelled);
      assert.equal(await cancel(cancelled), true);
      const removed = new Job(root, 'dep-removed', {});
      await saveId(removed);
      assert.equal(await cancel(removed), true);
      assert.equal(await viaCallback((cb) => removed.remove(cb)), true);

      const d1 = await saveId(new Job(root, 'dependent', { n: 1 }).depends([completed]));
      const doc1 = await fetchDoc(client, d1);
      assert.deepEqual(pick(doc1, ['status', 'depends', 'resolved']), { status: 'ready', depends: [], resolved: [completedId] });
      const resolvedEntry = findLog(doc1, 'Dependency resolved');
      assert.equal(resolvedEntry.level, 'info');
      assert.deepEqual(resolvedEntry.data, { dependency: { id: completedId, runId: completedRun.doc.runId } }, 'server log data kept (README)');

      const d2 = await saveId(new Job(root, 'dependent', { n: 2 }).depends([pending, completed]));
      assert.deepEqual(pick(await fetchDoc(client, d2, {}), ['status', 'depends', 'resolved']), {
        status: 'waiting',
        depends: [pendingId],
        resolved: [completedId],
      });

      assert.equal(await save(new Job(root, 'dependent', { n: 3 }).depends([failed])), null, 'failed antecedent: cancelled, null');
      assert.equal(await save(new Job(root, 'dependent', { n: 4 }).depends([cancelled])), null, 'cancelled antecedent: null');
      assert.equal(await save(new Job(root, 'dependent', { n: 5 }).depends([removed])), null, 'missing antecedent: null');

      assert.equal(await done(await claim('dep-pending')), true);
      const after = await fetchDoc(client, d2);
      assert.deepEqual(pick(after, ['status', 'depends', 'resolved']), { status: 'ready', depends: [], resolved: [completedId, pendingId] });
      const resolvedLater = after.log?.filter((e) => e.message === 'Dependency resolved') ?? [];
      assert.equal(resolvedLater.length, 2);
      assert.equal(resolvedLater[1]?.data?.dependency && (resolvedLater[1].data.dependency as { id: string }).id, pendingId);
      const dependents = await getWork('dependent', { maxJobs: 10 });
      assert.deepEqual(dependents.map((job) => job.data.n).sort(), [1, 2], 'the cancelled dependents never run');
    }));

  it('13 cancel cascades to dependents by default, to antecedents on request, and not at all when both are off (§2.3 jobCancel)', () =>
    withServer({}, async ({ client }) => {
      const chain = async (type: string): Promise<[Job, Job, Job]> => {
        const a = new Job(root, type, { step: 'a' });
        await saveId(a);
        const b = new Job(root, type, { step: 'b' }).depends([a]);
        await saveId(b);
        const c = new Job(root, type, { step: 'c' }).depends([b]);
        await saveId(c);
        return [a, b, c];
      };
      const idsOf = (jobs: Job[]) => jobs.map((job) => job.doc._id as string);

      const first = await chain('cascade-1');
      assert.equal(await cancel(first[0]), true);
      assert.deepEqual(await statuses(client, idsOf(first)), ['cancelled', 'cancelled', 'cancelled']);
      for (const id of idsOf(first)) {
        const doc = await fetchDoc(client, id);
        assert.deepEqual(entry(lastLog(doc)), { message: 'Job Cancelled', level: 'warning', runId: null });
        assert.equal(doc.runId, null);
        assert.deepEqual(doc.progress, { completed: 0, total: 1, percent: 0 });
      }
      assert.equal(await cancel(first[0]), false, 'nothing left to cancel');

      const second = await chain('cascade-2');
      assert.equal(await cancel(second[2], { dependents: false }), true, 'meteor-job sends antecedents:true');
      assert.deepEqual(await statuses(client, idsOf(second)), ['cancelled', 'cancelled', 'cancelled']);

      const third = await chain('cascade-3');
      assert.equal(await cancel(third[1], { antecedents: false, dependents: false }), true);
      assert.deepEqual(await statuses(client, idsOf(third)), ['ready', 'cancelled', 'waiting']);

      const fourth = await chain('cascade-4');
      assert.equal(await batch('cancelJobs', [fourth[1].doc._id as string], { antecedents: false }), true);
      assert.deepEqual(await statuses(client, idsOf(fourth)), ['ready', 'cancelled', 'cancelled'], 'cancelJobs: dependents by default');
    }));

  it('14 a final failure cancels dependents; restart brings back antecedents and dependents (§2.3 jobFail, jobRestart)', () =>
    withServer({}, async ({ client }) => {
      // wait 0: a failure sets after = now + retryWait even when final, and jobReady needs after ≤ now.
      const a = new Job(root, 'restart-a', {}).retry({ retries: 0, wait: 0 });
      const aId = await saveId(a);
      const b = new Job(root, 'restart-b', {}).depends([a]);
      const bId = await saveId(b);
      const c = new Job(root, 'restart-c', {}).depends([b]);
      const cId = await saveId(c);

      const running = await claim('restart-a');
      assert.equal(await fail(running, 'broken'), true);
      assert.deepEqual(await statuses(client, [aId, bId, cId]), ['failed', 'cancelled', 'cancelled'], 'the cancel cascades');

      assert.equal(await restart(b), true, 'meteor-job sends {retries:1, dependents:true}; antecedents default to true');
      const aDoc = await fetchDoc(client, aId);
      assert.deepEqual(pick(aDoc, ['status', 'retries', 'retried', 'runId', 'progress']), {
        status: 'ready',
        retries: 1,
        retried: 1,
        runId: null,
        progress: { completed: 0, total: 1, percent: 0 },
      });
      assert.deepEqual(messages(aDoc).slice(-2), ['Job Restarted', 'Promoted to ready']);
      assert.equal(await statusOf(client, bId), 'waiting', 'still depends on A');
      assert.equal(await statusOf(client, cId), 'waiting', 'dependents restarted too');
      assert.equal(messages(await fetchDoc(client, bId)).at(-1), 'Job Restarted');
      assert.equal(await restart(b), false, 'nothing restartable any more');

      const again = await claim('restart-a');
      assert.equal(again.doc.retried, 2, 'retried was kept across the restart');
      assert.equal(await done(again), true);
      assert.equal(await statusOf(client, bId), 'ready');
      assert.equal(await done(await claim('restart-b')), true);
      assert.equal(await done(await claim('restart-c')), true);

      const solo = await saveId(new Job(root, 'restart-opts', {}));
      assert.equal(await fail(await claim('restart-opts'), 'x', { fatal: true }), true);
      const until = new Date(Date.now() + 3_600_000);
      assert.equal(await batch('restartJobs', [solo], { retries: 3, until }), true);
      const soloDoc = await fetchDoc(client, solo);
      // The failure set after = now + 300000 (default retryWait), so jobReady leaves it waiting.
      assert.deepEqual(pick(soloDoc, ['status', 'retries']), { status: 'waiting', retries: 3 });
      assert.equal(ms(soloDoc.retryUntil), until.getTime());
      assert.equal(messages(soloDoc).at(-1), 'Job Restarted');
      assert.equal(await batch('readyJobs', [solo], { time: new Date(Date.now() + 600_000) }), true);
      assert.equal(await statusOf(client, solo), 'ready');
    }));

  it('15 delayDeps holds the resolved dependents back, then they are promoted when due (§2.3 jobDone)', () =>
    withServer({}, async ({ client }) => {
      const a = new Job(root, 'delay-a', {});
      const aId = await saveId(a);
      const bId = await saveId(new Job(root, 'delay-b', {}).depends([a]));
      const running = await claim('delay-a');
      const t0 = Date.now();
      assert.equal(await done(running, {}, { delayDeps: 1500 }), true);
      const t1 = Date.now();
      const doc = await fetchDoc(client, bId);
      assert.deepEqual(pick(doc, ['depends', 'resolved']), { depends: [], resolved: [aId] });
      assertTimeBetween(doc.after, t0 + 1500, t1 + 1500, 'dependent after = now + delayDeps');
      if (Date.now() < ms(doc.after) - 100) assert.equal(doc.status, 'waiting');
      await waitForStatus(client, bId, 'ready');
      assert.ok(Date.now() >= ms(doc.after), 'not promoted before its delay');
    }));

  it('16 cancelRepeats cancels every cancellable job of the type, only for forever-repeating jobs (§2.3 jobSave)', () =>
    withServer({}, async ({ client }) => {
      const foreverId = await saveId(new Job(root, 'cron', { n: 1 }).repeat({ wait: 60_000 }));
      const plainId = await saveId(new Job(root, 'cron', { n: 2 }));
      const running = await claim('cron');
      const otherId = await saveId(new Job(root, 'other-cron', {}).repeat({ wait: 60_000 }));
      const limitedId = await saveId(new Job(root, 'cron', { n: 3 }).repeat({ repeats: 5, wait: 60_000 }), { cancelRepeats: true });
      const before = await statuses(client, [foreverId, plainId, limitedId, otherId]);
      assert.ok(!before.includes('cancelled'), `a limited repeat cancels nothing: ${before.join(',')}`);

      const freshId = await saveId(new Job(root, 'cron', { n: 4 }).repeat({ wait: 60_000 }), { cancelRepeats: true });
      assert.deepEqual(await statuses(client, [foreverId, plainId, limitedId]), ['cancelled', 'cancelled', 'cancelled'], 'running ones included');
      assert.equal(await statusOf(client, freshId), 'ready');
      assert.equal(await statusOf(client, otherId), 'ready', 'other types untouched');
      assert.equal((await fetchDoc(client, freshId, {})).repeats, forever);
      assert.equal(await done(running), false, 'the cancelled running job cannot complete');
    }));

  it('17 shutdownJobServer/startJobServer and the stopJobs/startJobs aliases (§2.1 stopped state, §2.3)', () =>
    withServer({}, async ({ client }) => {
      const aliases = Job as unknown as {
        startJobs(root: string, cb: Callback<unknown>): void;
        stopJobs(root: string, cb: Callback<unknown>): void;
      };
      await saveId(new Job(root, 'ctl', { n: 1 }));
      const running = await claim('ctl');
      const queuedJob = new Job(root, 'ctl', { n: 2 });
      await saveId(queuedJob);

      assert.equal(await viaCallback((cb) => Job.shutdownJobServer(root, cb)), true);
      assert.equal(await viaCallback((cb) => Job.shutdownJobServer(root, { timeout: 60_000 }, cb)), true, 'again: still true');
      assert.deepEqual(await getWork('ctl', { maxJobs: 5 }), [], 'no work while stopped');
      assert.equal(await getOne('ctl'), undefined);
      assert.equal(await viaCallback((cb) => running.progress(1, 2, cb)), null, 'progress answers null while stopped');
      const runningId = running.doc._id as string;
      const runId = running.doc.runId as string;
      assert.equal(await client.call(`${root}_jobProgress`, runningId, runId, 5, 2, {}), null, 'stopped is answered before the completed ≤ total check');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobProgress`, runningId, runId, 1, 0, {})), 400, 'Match failed');
      assert.equal(await viaCallback((cb) => running.log('still here', cb)), true);
      const savedWhileStopped = await saveId(new Job(root, 'ctl', { n: 3 }));
      assert.equal(await statusOf(client, savedWhileStopped), 'ready');
      assert.equal(await viaCallback((cb) => queuedJob.pause(cb)), true);
      assert.equal(await viaCallback((cb) => queuedJob.resume(cb)), true);
      assert.equal(await done(running), true, 'jobDone works while stopped');

      assert.equal(await viaCallback((cb) => Job.startJobServer(root, cb)), true);
      assert.equal(await viaCallback((cb) => Job.startJobServer(root, {}, cb)), true, 'again: still true');
      assert.equal((await getWork('ctl', { maxJobs: 5 })).length, 2);

      await saveId(new Job(root, 'ctl-alias', {}));
      assert.equal(await viaCallback((cb) => aliases.stopJobs(root, cb)), true);
      assert.deepEqual(await getWork('ctl-alias', { maxJobs: 5 }), []);
      assert.equal(await viaCallback((cb) => aliases.startJobs(root, cb)), true);
      assert.equal((await getWork('ctl-alias', { maxJobs: 5 })).length, 1);
    }));

  it('18 the shutdown deadline fails running jobs non-fatally; startJobServer cancels a pending deadline (§2.3, README)', () =>
    withServer({ CUMULUS_PROMOTE_INTERVAL_MS: '50' }, async ({ client }) => {
      const keepId = await saveId(new Job(root, 'deadline-keep', {}));
      const witnessId = await saveId(new Job(root, 'deadline-witness', {}));
      await claim('deadline-keep');
      assert.equal((await getWork('deadline-witness', { maxJobs: 1, workTimeout: 1500 })).length, 1);
      assert.equal(await viaCallback((cb) => Job.shutdownJobServer(root, { timeout: 300 }, cb)), true);
      assert.equal(await viaCallback((cb) => Job.startJobServer(root, cb)), true);
      await waitForStatus(client, witnessId, 'failed');
      assert.equal(await statusOf(client, keepId), 'running', '1.5 s later, the cancelled 300 ms deadline has failed nothing');

      const retryId = await saveId(new Job(root, 'deadline', { n: 1 }).retry({ retries: 1, wait: 0 }));
      const lastId = await saveId(new Job(root, 'deadline', { n: 2 }));
      const claimed = await getWork('deadline', { maxJobs: 2 });
      assert.equal(claimed.length, 2);
      const runId = claimed[0]?.doc.runId;
      assert.equal(await viaCallback((cb) => Job.shutdownJobServer(root, { timeout: 100 }, cb)), true);
      await waitFor(async () => (await statusOf(client, lastId)) === 'failed', { ...patience, description: 'the deadline failed the job' });

      const retried = await fetchDoc(client, retryId);
      assert.equal(retried.status, 'waiting', 'non-fatal: a job with retries left goes back to waiting');
      assert.deepEqual(retried.failures, [{ value: 'Running at Job Server shutdown.', runId }]);
      assert.deepEqual(entry(lastLog(retried)), { message: 'Job Failed with Error: Running at Job Server shutdown..', level: 'warning', runId });
      const last = await fetchDoc(client, lastId);
      assert.deepEqual(entry(lastLog(last)), { message: 'Job Failed with Fatal Error: Running at Job Server shutdown..', level: 'danger', runId });
      await waitForStatus(client, keepId, 'failed');

      assert.equal(await viaCallback((cb) => Job.startJobServer(root, cb)), true);
      await waitForStatus(client, retryId, 'ready');
    }));

  it('19 getJob: single id → doc or null, arrays → found docs or null, getLog/getFailures (§2.3 getJob)', () =>
    withServer({}, async ({ client }) => {
      const a = await saveId(new Job(root, 'get', { n: 'a' }).retry({ retries: 1, wait: 60_000 }));
      const b = await saveId(new Job(root, 'get', { n: 'b' }));
      assert.equal(await viaCallback((cb) => Job.getJob(root, 'no-such-job', cb)), undefined, 'meteor-job turns null into undefined');
      assert.equal(await client.call(`${root}_getJob`, 'no-such-job', {}), null);
      assert.equal(await client.call(`${root}_getJob`, '', {}), null, 'an empty string is a valid (missing) id');
      assert.equal(await client.call(`${root}_getJob`, [], {}), null, 'an empty array: null');
      assert.equal(await client.call(`${root}_getJob`, ['missing-1', 'missing-2'], {}), null, 'nothing found: null, not []');

      const docs = (await client.call(`${root}_getJob`, [a, 'missing', b], {})) as Doc[];
      assert.ok(Array.isArray(docs));
      assert.deepEqual(docs.map((doc) => doc._id).sort(), [a, b].sort(), 'missing ids are skipped');
      for (const doc of docs) {
        for (const key of ['log', 'failures', '_private']) assert.equal(key in doc, false, `getJob omits ${key}`);
        assert.equal(typeof doc.type, 'string');
        assert.ok(doc.data && typeof doc.data === 'object');
      }
      const single = (await client.call(`${root}_getJob`, a)) as Doc;
      assert.equal(single._id, a);
      assert.equal('log' in single, false, 'options omitted: no log');
      assert.ok(Array.isArray(((await client.call(`${root}_getJob`, a, { getLog: true })) as Doc).log));

      assert.equal(await fail(await claim('get'), 'once'), true);
      const withFailures = (await client.call(`${root}_getJob`, a, { getFailures: true })) as Doc;
      assert.equal(withFailures.failures?.length, 1);
      assert.equal('log' in withFailures, false);
      assert.equal('failures' in ((await client.call(`${root}_getJob`, a, {})) as Doc), false);

      const job = await viaCallback<Job | undefined>((cb) => Job.getJob(root, a, { getLog: true }, cb));
      assert.ok(job instanceof Job);
      assert.equal(job.doc._id, a);
      assert.equal(job.doc.status, 'waiting');
      assert.ok(Array.isArray(job.doc.log));
    }));

  it('20 Job.getJobs: 32 ids per getJob call, results concatenated, a null chunk adds null (§4.2)', () =>
    withServer({}, async ({ client }) => {
      const ids: string[] = [];
      for (let i = 0; i < 40; i += 1) ids.push(await saveId(new Job(root, 'chunk', { i })));
      const getJobs = (list: string[]) => viaCallback<(Job | null)[]>((cb) => Job.getJobs(root, list, {}, cb as never));

      const jobs = await getJobs(ids);
      assert.equal(jobs.length, 40, 'two chunks (32 + 8) concatenated');
      assert.ok(jobs.every((job) => job instanceof Job && job.type === 'chunk'));
      assert.deepEqual(jobs.map((job) => job?.data.i).sort((x, y) => Number(x) - Number(y)), ids.map((_, i) => i));
      // Client quirk: getJobs rebuilds each job from type and data only (new Job(root, type, data)),
      // so its docs carry no _id and always say "waiting"; the real state is read with a raw call.
      const raw = (await client.call(`${root}_getJob`, ids, {})) as Doc[];
      assert.equal(raw.length, 40);
      assert.deepEqual(new Set(raw.map((doc) => doc.status)), new Set(['ready']));

      const missing = Array.from({ length: 32 }, (_, i) => `missing-${i}`);
      const mixed = await getJobs([...missing, ids[0] as string]);
      assert.equal(mixed.length, 2);
      assert.equal(mixed[0], null, 'a chunk with nothing found answers null');
      assert.equal(mixed[1]?.data.i, 0);
      assert.deepEqual(await getJobs(missing), [null]);
    }));

  it('21 batch admin calls: true when anything changed, false otherwise, statuses and logs (§2.3, §3.2)', () =>
    withServer({}, async ({ client }) => {
      const readyIds: string[] = [];
      for (let i = 0; i < 3; i += 1) readyIds.push(await saveId(new Job(root, 'admin', { i })));
      const delayed = new Job(root, 'admin', { delayed: true }).delay(60_000);
      const delayedId = await saveId(delayed);
      const all = [...readyIds, delayedId];

      assert.equal(await batch('pauseJobs', all), true);
      assert.deepEqual(new Set(await statuses(client, all)), new Set(['paused']));
      assert.equal(messages(await fetchDoc(client, delayedId)).at(-1), 'Job Paused');
      assert.equal(await batch('pauseJobs', all), false, 'nothing pausable');
      assert.equal(await batch('resumeJobs', all), true);
      assert.deepEqual(await statuses(client, all), ['ready', 'ready', 'ready', 'waiting']);
      assert.deepEqual(messages(await fetchDoc(client, readyIds[0] as string)).slice(-2), ['Job Resumed', 'Promoted to ready']);
      assert.equal(await batch('resumeJobs', all), false, 'nothing paused');

      assert.equal(await batch('readyJobs', [delayedId]), false, 'not due yet');
      assert.equal(await batch('readyJobs', [delayedId], { time: new Date(Date.now() + 120_000) }), true, 'due by the given time');
      assert.equal(await statusOf(client, delayedId), 'ready');

      assert.equal(await batch('cancelJobs', all), true);
      assert.deepEqual(new Set(await statuses(client, all)), new Set(['cancelled']));
      assert.equal(await batch('cancelJobs', all), false);
      assert.equal(await batch('restartJobs', all), true);
      assert.deepEqual(new Set(await statuses(client, all)), new Set(['ready']));
      await claim('admin');
      assert.equal(await batch('removeJobs', all), false, 'ready and running jobs are not removable');
      assert.equal(await batch('cancelJobs', all), true, 'running jobs are cancellable');
      assert.equal(await batch('removeJobs', all), true);
      assert.equal(await client.call(`${root}_getJob`, all, {}), null, 'all removed');
      assert.equal(await batch('removeJobs', all), false);
    }));

  it('22 batch calls split 256 ids per call and OR the answers (§4.2)', () =>
    withServer({}, async ({ client }) => {
      const realId = await saveId(new Job(root, 'chunked', {}));
      const ghosts = Array.from({ length: 256 }, (_, i) => `ghost-${i}`);
      const ids = [...ghosts, realId];
      assert.equal(await batch('pauseJobs', ids), true, 'the second call changed something');
      assert.equal(await statusOf(client, realId), 'paused');
      assert.equal(await batch('pauseJobs', ids), false);
      assert.equal(await batch('resumeJobs', ids), true);
      assert.equal(await batch('cancelJobs', ghosts), false);
      assert.equal(await batch('cancelJobs', ids), true);
      assert.equal(await batch('removeJobs', ids), true);
      assert.equal(await client.call(`${root}_getJob`, realId, {}), null);
      for (const name of ['jobPause', 'jobResume', 'jobCancel', 'jobRestart', 'jobRemove']) {
        assert.equal(await client.call(`${root}_${name}`, [], {}), false, `${name}([]) changes nothing`);
      }
    }));

  it('23 job.refresh() replaces the local doc with the server one, and answers false once removed (§4.2)', () =>
    withServer({}, async () => {
      const job = new Job(root, 'refresh', { v: 1 });
      assert.throws(() => job.refresh(() => undefined), /unsaved/);
      const id = await saveId(job);
      const same = await viaCallback<Job | false>((cb) => job.refresh(cb));
      assert.equal(same, job, 'refresh yields the job itself');
      assert.equal(job.doc._id, id);
      assert.equal(job.doc.status, 'ready');
      assert.equal('log' in job.doc, false, 'refresh sends getLog:false');

      const worker = await claim('refresh');
      assert.equal(await viaCallback((cb) => worker.log('from the worker', { level: 'warning' }, cb)), true);
      await viaCallback<Job | false>((cb) => job.refresh({ getLog: true }, cb));
      assert.equal(job.doc.status, 'running');
      assert.equal(job.doc.runId, worker.doc.runId);
      assert.deepEqual(messages(job.doc as { log?: LogEntry[] }).slice(-2), ['Job Running', 'from the worker']);

      assert.equal(await done(worker, { ok: 1 }), true);
      await viaCallback<Job | false>((cb) => job.refresh(cb));
      assert.deepEqual(job.doc.result, { ok: 1 });
      assert.equal(await viaCallback((cb) => job.remove(cb)), true);
      assert.equal(await viaCallback((cb) => job.refresh(cb)), false, 'a removed job refreshes to false');
    }));

  it('24 job.log: levels, data, runId, any status, unsaved jobs; bad levels/data are 400 (§2.3 jobLog, §4.2)', () =>
    withServer({}, async ({ client }) => {
      const job = new Job(root, 'logging', {});
      assert.equal(await viaCallback((cb) => job.log('before save', { level: 'warning' }, cb)), true, 'an unsaved job logs locally');
      const id = await saveId(job);
      const saved = await fetchDoc(client, id);
      assert.deepEqual(messages(saved), ['Constructed', 'before save', 'Job Submitted', 'Promoted to ready']);
      assert.deepEqual(saved.log?.map((e) => e.level), ['info', 'warning', 'info', 'info']);

      assert.equal(await viaCallback((cb) => job.log('with data', { level: 'success', data: { a: 1, nested: { b: [1, 2] } } }, cb)), true);
      const withData = lastLog(await fetchDoc(client, id));
      assert.deepEqual(pick(withData, ['message', 'level', 'runId', 'data']), {
        message: 'with data',
        level: 'success',
        runId: null,
        data: { a: 1, nested: { b: [1, 2] } },
      });
      assert.ok(withData.time instanceof Date);

      const running = await claim('logging');
      assert.equal(await viaCallback((cb) => running.log('quiet', { echo: 'danger' } as never, cb)), true, 'echo is stripped');
      const quiet = lastLog(await fetchDoc(client, id));
      assert.deepEqual(entry(quiet), { message: 'quiet', level: 'info', runId: running.doc.runId });
      assert.equal('data' in quiet, false);

      assert.equal(await done(running), true);
      assert.equal(await viaCallback((cb) => job.log('after completion', { level: 'danger' }, cb)), true, 'any status');
      assert.equal(await client.call(`${root}_jobLog`, id, 'some-other-run', 'any runId', {}), true);
      assert.equal(await client.call(`${root}_jobLog`, 'no-such-job', null, 'x', {}), false);
      assertMeteorError(await rejectionOf(client.call(`${root}_jobLog`, id, null, 'x', { level: 'fatal' })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobLog`, id, null, 'x', { data: 'text' })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobLog`, id, null, 42, {})), 400, 'Match failed');
      assert.throws(() => job.log('bad', { level: 'fatal' }, () => undefined), /level/i, 'meteor-job checks levels itself');
      assert.deepEqual(messages(await fetchDoc(client, id)).slice(-2), ['after completion', 'any runId']);
    }));

  it('25 job.progress: stored and validated (completed > total → 400), stale runIds get false (§2.3 jobProgress)', () =>
    withServer({}, async ({ client }) => {
      const id = await saveId(new Job(root, 'progress', {}));
      const job = await claim('progress');
      const runId = job.doc.runId;
      assert.equal(await viaCallback((cb) => job.progress(25, 100, cb)), true);
      assert.deepEqual(job.doc.progress, { completed: 25, total: 100, percent: 25 }, 'the client keeps the accepted progress');
      assert.deepEqual((await fetchDoc(client, id, {})).progress, { completed: 25, total: 100, percent: 25 });

      assert.throws(() => job.progress(150, 100, () => undefined), /progress/, 'meteor-job refuses it before sending');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobProgress`, id, runId, 150, 100, {})), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobProgress`, id, runId, 1, 0, {})), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobProgress`, id, runId, -1, 10, {})), 400, 'Match failed');
      const echoed = await rejectionOf(viaCallback((cb) => job.progress(1, 2, { echo: false }, cb)));
      assertMeteorError(echoed, 400, 'Match failed');
      assert.deepEqual((await fetchDoc(client, id, {})).progress, { completed: 25, total: 100, percent: 25 }, 'rejected calls write nothing');

      assert.equal(await client.call(`${root}_jobProgress`, id, 'stale-run', 1, 2, {}), false);
      assert.equal(await client.call(`${root}_jobProgress`, id, runId, 3, 7), true, 'options omitted');
      assert.deepEqual((await fetchDoc(client, id, {})).progress, { completed: 3, total: 7, percent: (100 * 3) / 7 });
      assert.equal(await done(job), true);
      assert.deepEqual((await fetchDoc(client, id, {})).progress, { completed: 7, total: 7, percent: 100 }, 'done: {total, total, 100}');
      assert.equal(await viaCallback((cb) => job.progress(1, 2, cb)), false, 'not running any more');
    }));

  it('26 job.fail: fatal, values, defaults, after, failures with runId, log level by finality (§2.3 jobFail, §3.3)', () =>
    withServer({}, async ({ client }) => {
      const parent = new Job(root, 'fatal', {}).retry(5);
      const id = await saveId(parent);
      const dependentId = await saveId(new Job(root, 'fatal-dependent', {}).depends([parent]));
      const job = await claim('fatal');
      const runId = job.doc.runId;
      const t0 = Date.now();
      assert.equal(await fail(job, 'broken', { fatal: true }), true);
      const t1 = Date.now();
      const doc = await fetchDoc(client, id);
      assert.deepEqual(pick(doc, ['status', 'runId', 'retries', 'retried', 'failures']), {
        status: 'failed',
        runId: null,
        retries: 5,
        retried: 1,
        failures: [{ value: 'broken', runId }],
      });
      assertTimeBetween(doc.after, t0 + 300_000, t1 + 300_000, 'after = now + retryWait even on a final failure');
      assert.deepEqual(entry(lastLog(doc)), { message: 'Job Failed with Fatal Error: broken.', level: 'danger', runId });
      assert.equal(await statusOf(client, dependentId), 'cancelled', 'dependents of a failed job are cancelled');
      assert.equal(await fail(job, 'again'), false, 'a second fail is refused');

      const retrying0 = new Job(root, 'fatal-retry', {}).retry({ retries: 1, wait: 60_000 });
      const retryId = await saveId(retrying0);
      const retryDependentId = await saveId(new Job(root, 'fatal-retry-dependent', {}).depends([retrying0]));
      const retrying = await claim('fatal-retry');
      assert.equal(await fail(retrying, { code: 7 }), true);
      const retryDoc = await fetchDoc(client, retryId);
      assert.equal(retryDoc.status, 'waiting');
      assert.deepEqual(retryDoc.failures, [{ code: 7, runId: retrying.doc.runId }]);
      assert.deepEqual(entry(lastLog(retryDoc)), { message: 'Job Failed with Error.', level: 'warning', runId: retrying.doc.runId });
      assert.equal(await statusOf(client, retryDependentId), 'waiting', 'a failure that will retry leaves dependents alone');

      const plainId = await saveId(new Job(root, 'fatal-default', {}));
      const plain = await claim('fatal-default');
      assert.equal(await viaCallback((cb) => plain.fail(cb)), true);
      const plainDoc = await fetchDoc(client, plainId);
      assert.deepEqual(plainDoc.failures, [{ value: 'No error information provided', runId: plain.doc.runId }]);
      assert.deepEqual(entry(lastLog(plainDoc)), {
        message: 'Job Failed with Fatal Error: No error information provided.',
        level: 'danger',
        runId: plain.doc.runId,
      });
    }));

  it('27 exponential and constant backoff: after = now + wait·2^(retried−1), promoted when due (§2.3 jobFail, README)', () =>
    withServer({}, async ({ client }) => {
      const id = await saveId(new Job(root, 'backoff', {}).retry({ retries: 3, wait: 200, backoff: 'exponential' }));
      for (let attempt = 1; attempt <= 4; attempt += 1) {
        const job = await claimWhenReady(client, id);
        assert.equal(job.doc.retried, attempt);
        assert.equal(job.doc.retries, 4 - attempt);
        const t0 = Date.now();
        assert.equal(await fail(job, `attempt ${attempt}`), true);
        const t1 = Date.now();
        const delay = 200 * 2 ** (attempt - 1);
        const doc = await fetchDoc(client, id);
        const fetched = Date.now();
        assertTimeBetween(doc.after, t0 + delay, t1 + delay, `after attempt ${attempt}`);
        if (attempt < 4) {
          if (fetched < ms(doc.after)) assert.equal(doc.status, 'waiting', 'not ready before it is due');
          assert.deepEqual(entry(lastLog(doc)), { message: `Job Failed with Error: attempt ${attempt}.`, level: 'warning', runId: job.doc.runId });
        } else {
          assert.equal(doc.status, 'failed');
          assert.deepEqual(entry(lastLog(doc)), { message: 'Job Failed with Fatal Error: attempt 4.', level: 'danger', runId: job.doc.runId });
        }
      }

      const constantId = await saveId(new Job(root, 'backoff-constant', {}).retry({ retries: 2, wait: 250 }));
      for (let attempt = 1; attempt <= 2; attempt += 1) {
        const job = await claimWhenReady(client, constantId);
        const t0 = Date.now();
        assert.equal(await fail(job, 'again'), true);
        const t1 = Date.now();
        assertTimeBetween((await fetchDoc(client, constantId, {})).after, t0 + 250, t1 + 250, `constant after attempt ${attempt}`);
      }
      await waitForStatus(client, constantId, 'ready');
    }));

  it('28 retryUntil: a retry that would start after it fails the job for good (§2.3 jobFail, §3.4)', () =>
    withServer({}, async ({ client }) => {
      const lateId = await saveId(new Job(root, 'until', {}).retry({ retries: 5, wait: 60_000, until: new Date(Date.now() + 30_000) }));
      const late = await claim('until');
      assert.equal(await fail(late, 'late'), true);
      const lateDoc = await fetchDoc(client, lateId);
      assert.equal(lateDoc.status, 'failed', 'retries left, but the retry time is past retryUntil');
      assert.equal(lateDoc.retries, 5);
      assert.deepEqual(entry(lastLog(lateDoc)), { message: 'Job Failed with Fatal Error: late.', level: 'danger', runId: late.doc.runId });

      const inTimeId = await saveId(new Job(root, 'until-ok', {}).retry({ retries: 5, wait: 0, until: new Date(Date.now() + 60_000) }));
      assert.equal(await fail(await claim('until-ok'), 'soon'), true);
      await waitForStatus(client, inTimeId, 'ready');
    }));

  it('29 Job.makeJob and new Job(root, doc) wrap raw getWork/getJob docs into working jobs (§3.1, §4.2)', () =>
    withServer({}, async ({ client }) => {
      await saveId(new Job(root, 'make', { n: 1 }));
      await saveId(new Job(root, 'make', { n: 2 }));
      const thirdId = await saveId(new Job(root, 'make', { n: 3 }));
      const docs = (await client.call(`${root}_getWork`, ['make'], { maxJobs: 2 })) as Doc[];
      assert.equal(docs.length, 2);
      for (const doc of docs) {
        assert.ok(typeof doc._id === 'string' && typeof doc.type === 'string' && doc.data && typeof doc.data === 'object');
        assert.equal(typeof doc.runId, 'string');
      }
      const [firstDoc, secondDoc] = docs as [Doc, Doc];
      const made = Job.makeJob(root, firstDoc);
      assert.ok(made instanceof Job);
      assert.equal(made.doc._id, firstDoc._id);
      assert.equal(await done(made, { made: true }), true);
      const built = new Job(root, secondDoc);
      assert.equal(await fail(built, 'nope'), true);
      assert.deepEqual(await statuses(client, [firstDoc._id, secondDoc._id]), ['completed', 'failed']);

      const raw = (await client.call(`${root}_getJob`, thirdId, {})) as Doc;
      const fromGetJob = Job.makeJob(root, raw);
      assert.equal(await viaCallback((cb) => fromGetJob.pause(cb)), true);
      assert.equal(await statusOf(client, thirdId), 'paused');
    }));

  it('30 readyJobs/ready: dependencies block unless forced; an empty id list means all; time (§2.3 jobReady)', () =>
    withServer({}, async ({ client }) => {
      const a = new Job(root, 'force-a', {});
      await saveId(a);
      const b = new Job(root, 'force-b', {}).depends([a]);
      const bId = await saveId(b);
      assert.equal(await statusOf(client, bId), 'waiting');
      assert.equal(await batch('readyJobs', [bId]), false, 'pending dependencies block promotion');
      assert.equal(await viaCallback((cb) => b.ready(cb)), false);
      assert.equal(await batch('readyJobs', [bId], { force: true }), true);
      const bDoc = await fetchDoc(client, bId);
      assert.deepEqual(pick(bDoc, ['status', 'depends', 'resolved']), { status: 'ready', depends: [], resolved: [] });
      const forced = bDoc.log?.findIndex((e) => e.message === 'Dependencies force resolved') ?? -1;
      assert.ok(forced >= 0, `forced entry in ${JSON.stringify(messages(bDoc))}`);
      assert.equal(bDoc.log?.[forced]?.level, 'warning');
      assert.deepEqual(entry(bDoc.log?.[forced + 1] as LogEntry), { message: 'Promoted to ready', level: 'info', runId: null });
      assert.equal(await viaCallback((cb) => b.ready(cb)), false, 'already ready');

      const delayed = new Job(root, 'force-d', {}).delay(60_000);
      const delayedAfter = ms(delayed.doc.after);
      const delayedId = await saveId(delayed);
      assert.equal(await batch('readyJobs', []), false, 'nothing waiting is due');
      assert.equal(await batch('readyJobs', [], { time: new Date(Date.now() + 120_000) }), true, 'an empty list means all jobs');
      const dDoc = await fetchDoc(client, delayedId, {});
      assert.equal(dDoc.status, 'ready');
      assert.equal(ms(dDoc.after), delayedAfter, 'without explicit ids, after is left alone');

      const explicit = new Job(root, 'force-e', {}).delay(60_000);
      const explicitId = await saveId(explicit);
      assert.equal(await viaCallback((cb) => explicit.ready(cb)), false, 'not due');
      const t0 = Date.now();
      assert.equal(await viaCallback((cb) => explicit.ready({ time: new Date(Date.now() + 120_000) }, cb)), true);
      const t1 = Date.now();
      assertTimeBetween((await fetchDoc(client, explicitId, {})).after, t0, t1, 'with explicit ids, after = now');
    }));

  it('31 ObjectID-free: string ids and runIds, no custom EJSON types, ObjectID arguments still answered (§1.9, §2.2)', () =>
    withServer({}, async ({ client }) => {
      const id = await saveId(new Job(root, 'oid', {}));
      const job = await claim('oid');
      assert.equal(typeof job.doc.runId, 'string');
      assert.doesNotMatch(job.doc.runId as string, /^[0-9a-f]{24}$/, 'a runId never looks like an ObjectID');
      const doc = await fetchDoc(client, id);
      assert.doesNotMatch(JSON.stringify(doc), /"\$type"|"_str"/, 'no custom types in job documents');
      assert.equal(await client.call(`${root}_getJob`, 'aaaaaaaaaaaaaaaaaaaaaaaa', {}), null, 'a 24-hex string is just a string id');

      const { ObjectID } = (client.ddp as unknown as { EJSON: { ObjectID: new () => object } }).EJSON;
      assert.equal(await within(client.call(`${root}_getJob`, new ObjectID(), {}), 5000, 'getJob(ObjectID)'), null);
      assert.equal(await within(client.call(`${root}_jobLog`, new ObjectID(), null, 'x', {}), 5000, 'jobLog(ObjectID)'), false);
      assert.equal(await within(client.call(`${root}_jobPause`, [new ObjectID()], {}), 5000, 'jobPause([ObjectID])'), false);
      assert.equal(await done(job), true);
    }));

  it('32 error shapes: Meteor.Error objects for 400 and 404, delivered to meteor-job callbacks (§1.7, §2.2)', () =>
    withServer({}, async ({ client }) => {
      const bad = new Job(root, 'errors', {});
      bad.doc.status = 'running';
      const saveError = await rejectionOf(save(bad));
      assertMeteorError(saveError, 400, 'Match failed');
      assert.equal(bad.doc._id, undefined);

      assertMeteorError(await rejectionOf(client.call(`${root}_noSuchMethod`)), 404, `Method '${root}_noSuchMethod' not found`);
      await new Promise<void>((resolve) => client.ddp.call(`${root}_noSuchMethod`, [], () => undefined, resolve));
      await new Promise<void>((resolve) => client.ddp.call(`${root}_getWork`, ['errors', null], () => undefined, resolve));
      assertMeteorError(await rejectionOf(getWork('errors', { maxJobs: 0 })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(viaCallback((cb) => Job.startJobServer(root, { colour: 'red' }, cb))), 400, 'Match failed');
      assertMeteorError(await rejectionOf(viaCallback((cb) => Job.shutdownJobServer(root, { timeout: 0 }, cb))), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_getWork`, 'errors', null)), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_getWork`, 'errors', { maxJobs: 1.5 })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_getJob`, 42, {})), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobCancel`, 'x', { antecedents: 'yes' })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobDone`, 'x', 'run', 'not an object', {})), 400, 'Match failed');
      const good = new Job(root, 'errors', {}).doc;
      assertMeteorError(await rejectionOf(client.call(`${root}_jobSave`, { ...good, colour: 'red' })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobSave`, good, { cancelRepeats: 1 })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_getWork`, 'errors', { priority: 1 })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobDone`, 'x', 'run', {}, { delayDeps: -1 })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobDone`, 'x', 'run', {}, { fast: true })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobFail`, 'x', 'run', {}, { fatal: 'yes' })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_getJob`, ['ok', 7], {})), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobPause`, 'x', { now: true })), 400, 'Match failed');
      assert.deepEqual(await getWork('errors', { maxJobs: 5 }), [], 'failed calls wrote nothing');
      assert.equal(await client.call(`${root}_jobDone`, 'missing', 'run', {}), false, 'a well-formed call on a missing job: false');
    }));

  it('33 permissions: 403 before login and for the wrong role, allowed by role after DDP login (§1.7, §1.10, §3.8)', () =>
    withServer({ CUMULUS_TOKENS: 'admin:admin-secret-1,worker:worker-secret-1' }, async ({ server, client }) => {
      assertMeteorError(await rejectionOf(save(new Job(root, 'auth', {}))), 403, 'Method not authorized');
      assertMeteorError(await rejectionOf(getWork('auth', { maxJobs: 1 })), 403, 'Method not authorized');
      const login = (await client.call('login', { resume: 'worker-secret-1' })) as Record<string, unknown>;
      assert.equal(typeof login.id, 'string');
      assert.equal(login.token, 'worker-secret-1');
      assert.equal(login.type, 'resume');
      assert.ok(login.tokenExpires instanceof Date);
      assertMeteorError(await rejectionOf(save(new Job(root, 'auth', {}))), 403, 'Method not authorized');
      assertMeteorError(await rejectionOf(viaCallback((cb) => Job.startJobServer(root, cb))), 403, 'Method not authorized');
      assert.deepEqual(await getWork('auth', { maxJobs: 1 }), [], 'a worker may ask for work');

      const admin = await connectMeteorJob(server.port, [root]); // meteor-job now calls through this connection
      try {
        await admin.call('login', { resume: 'admin-secret-1' });
        const id = await saveId(new Job(root, 'auth', { n: 1 }));
        const docs = (await client.call(`${root}_getWork`, ['auth'], {})) as Doc[];
        assert.deepEqual(docs.map((doc) => doc._id), [id], 'the worker connection claims it');
        assert.equal(await client.call(`${root}_jobDone`, id, docs[0]?.runId, {}, {}), true);
        assertMeteorError(await rejectionOf(client.call(`${root}_jobRemove`, id, {})), 403, 'Method not authorized');
        assert.equal(await admin.call(`${root}_jobRemove`, id, {}), true);
        await client.call('logout');
        assertMeteorError(await rejectionOf(client.call(`${root}_getWork`, ['auth'], {})), 403, 'Method not authorized');
      } finally {
        admin.close();
      }
    }));

  it('34 pause, resume and re-save: paused jobs take new settings, saved-paused jobs wait for resume (§2.3 jobSave, jobPause)', () =>
    withServer({}, async ({ client }) => {
      const job = new Job(root, 'resave', { v: 1 });
      const id = await saveId(job);
      assert.equal(await viaCallback((cb) => job.pause(cb)), true);
      assert.equal(await statusOf(client, id), 'paused');
      assert.equal(await viaCallback((cb) => job.pause(cb)), false, 'already paused');
      job.priority('high').retry({ retries: 4, wait: 1000 });
      job.data.v = 2;
      assert.equal(await save(job), id, 're-saving a paused job answers its id');
      const doc = await fetchDoc(client, id);
      assert.deepEqual(pick(doc, ['status', 'priority', 'retries', 'retryWait', 'data']), {
        status: 'ready',
        priority: -10,
        retries: 5,
        retryWait: 1000,
        data: { v: 2 },
      });
      assert.deepEqual(messages(doc).slice(-3), ['Job Paused', 'Job Resubmitted', 'Promoted to ready']);
      assert.equal(await save(job), null, 'only paused jobs can be re-saved');

      const paused = new Job(root, 'resave-paused', {});
      assert.equal(await viaCallback((cb) => paused.pause(cb)), true, 'an unsaved job pauses locally');
      const pausedId = await saveId(paused);
      assert.equal(await statusOf(client, pausedId), 'paused', 'saved paused');
      assert.equal(await getOne('resave-paused'), undefined);
      assert.equal(await viaCallback((cb) => paused.resume(cb)), true);
      assert.deepEqual(messages(await fetchDoc(client, pausedId)).slice(-2), ['Job Resumed', 'Promoted to ready']);
      assert.equal(await viaCallback((cb) => paused.resume(cb)), false, 'not paused any more');
      assert.ok((await getOne('resave-paused')) instanceof Job);

      const toCancel = await saveId(new Job(root, 'resave-cancel', {}));
      assert.equal(await batch('pauseJobs', [toCancel]), true);
      assert.equal(await batch('cancelJobs', [toCancel]), true, 'paused jobs are cancellable');
      assert.equal(await statusOf(client, toCancel), 'cancelled');
      assert.equal(await batch('resumeJobs', [toCancel]), false);
    }));

  it('35 cancelling a running job: the worker learns it from false; restart gives a new run, the old one stays refused (§3.7)', () =>
    withServer({}, async ({ client }) => {
      const id = await saveId(new Job(root, 'stale', {}));
      const first = await claim('stale');
      assert.equal(await cancel(first), true);
      const doc = await fetchDoc(client, id);
      assert.deepEqual(pick(doc, ['status', 'runId', 'progress']), { status: 'cancelled', runId: null, progress: { completed: 0, total: 1, percent: 0 } });
      assert.equal(await viaCallback((cb) => first.progress(1, 2, cb)), false);
      assert.equal(await done(first), false);
      assert.equal(await fail(first, 'x'), false);
      assert.equal(await viaCallback((cb) => first.log('still logging', cb)), true);

      assert.equal(await restart(first), true);
      const second = await claimWhenReady(client, id);
      assert.notEqual(second.doc.runId, first.doc.runId);
      assert.equal(second.doc.retried, 2);
      assert.equal(await done(first), false, 'the old runId is still refused');
      assert.equal(await done(second), true);
      assert.equal(await viaCallback((cb) => first.remove(cb)), true);
    }));

  it('36 jobRemove: only finished jobs; removing an antecedent cancels its dependents (README difference for §3.6)', () =>
    withServer({}, async ({ client }) => {
      const a = new Job(root, 'remove-a', {});
      const aId = await saveId(a);
      const bId = await saveId(new Job(root, 'remove-b', {}).depends([a]));
      assert.equal(await viaCallback((cb) => a.remove(cb)), false, 'a ready job is not removable');
      const running = await claim('remove-a');
      assert.equal(await viaCallback((cb) => running.remove(cb)), false, 'a running job is not removable');
      assert.equal(await cancel(running, { dependents: false }), true);
      assert.equal(await statusOf(client, bId), 'waiting');
      assert.equal(await viaCallback((cb) => a.remove(cb)), true);
      assert.equal(await client.call(`${root}_getJob`, aId, {}), null);
      await waitForStatus(client, bId, 'cancelled');
      const bDoc = await fetchDoc(client, bId);
      assert.ok(bDoc.log && bDoc.log.length > 0 && bDoc.log.some((e) => e.message === 'Job Cancelled'), 'the dependent is cancelled with a log entry');
      assert.equal(await viaCallback((cb) => a.remove(cb)), false, 'already gone');
    }));

  it('37 the meteor-job README pattern: ddp.observe on <root>.jobs triggers a queue that never polls (§1.8, §4.3)', () =>
    withServer({}, async ({ client }) => {
      const processed: unknown[] = [];
      const errors: Error[] = [];
      const queue = Job.processJobs(root, 'observed', { pollInterval: false, errorCallback: (e) => errors.push(e) }, (job, cb) => {
        const single = job as Job;
        single.done({}, () => {
          processed.push(single.data.n);
          cb();
        });
      });
      const observer = client.ddp.observe(`${root}.jobs`);
      const subscribe = (name: string, params: unknown[]) =>
        new Promise<string>((resolve, reject) => {
          const id: string = client.ddp.subscribe(name, params, (error) => (error ? reject(error as Error) : resolve(id)));
        });
      try {
        const unknown = await rejectionOf(subscribe('no-such-publication', []));
        assert.deepEqual(pick(unknown as object, ['error', 'reason']), { error: 404, reason: "Subscription 'no-such-publication' not found" });
        // ddp crashes on a `removed` for a collection it never saw (§1.8): an empty subscription
        // stopped before any document arrived must not send one.
        const empty = await subscribe(`${root}.jobs`, [{ type: 'never-saved' }]);
        client.ddp.unsubscribe(empty);
        assert.deepEqual(await client.call(`${root}_getWork`, ['never-saved'], {}), [], 'the connection survived the unsub');
        await subscribe(`${root}.jobs`, [{ type: 'observed' }]);
        observer.added = () => queue.trigger();
        observer.changed = () => queue.trigger();
        const first = await saveId(new Job(root, 'observed', { n: 1 }));
        await waitFor(() => processed.length === 1, { ...patience, description: 'the first job, fetched on trigger' });
        await waitFor(() => client.ddp.collections[`${root}.jobs`]?.[first]?.status === 'completed', { ...patience, description: 'the local copy completed' });
        const local = client.ddp.collections[`${root}.jobs`]?.[first];
        assert.equal(local?._id, first, 'ddp keeps the stringified id as _id');
        assert.equal(local?.type, 'observed');
        await saveId(new Job(root, 'observed', { n: 2 }));
        await waitFor(() => processed.length === 2, { ...patience, description: 'the second job, fetched only because of the trigger' });
      } finally {
        observer.stop();
        await stopQueue(queue);
      }
      assert.deepEqual(processed, [1, 2]);
      assert.deepEqual(errors, []);
    }));

  it('38 several collection roots on one connection: <root>_ methods and separate job sets (§2.1, §4.1)', () =>
    withServer({ CUMULUS_COLLECTIONS: 'queue,other' }, async ({ client }) => {
      Job.setDDP(client.ddp, ['queue', 'other']);
      const queueId = await saveId(new Job('queue', 'multi', { root: 'queue' }));
      const otherId = await saveId(new Job('other', 'multi', { root: 'other' }));
      assert.notEqual(queueId, otherId);
      const otherWork = await viaCallback<Job[]>((cb) => Job.getWork('other', 'multi', { maxJobs: 5 }, cb as never));
      assert.deepEqual(otherWork.map((job) => job.data.root), ['other']);
      assert.equal(await done(otherWork[0] as Job), true, 'done goes to other_jobDone');
      assert.equal(await client.call('other_getJob', queueId, {}), null);
      assert.equal(await client.call('queue_getJob', otherId, {}), null);
      assert.equal(((await client.call('other_getJob', otherId, {})) as Doc).status, 'completed');
      assert.equal(await statusOf(client, queueId), 'ready', 'the queue root is untouched');
      assertMeteorError(await rejectionOf(client.call('nope_getWork', ['multi'], {})), 404, "Method 'nope_getWork' not found");
    }));

  it('39 jobSave edge cases: no log, _id null, paused with completed antecedents, caps, repeatWait checks (§2.2, §5.12, §5.13, README)', () =>
    withServer({}, async ({ client }) => {
      const base = () => ({ ...new Job(root, 'edge', {}).doc }) as Record<string, unknown>;
      const withoutLog = base();
      delete withoutLog.log;
      const noLogId = (await client.call(`${root}_jobSave`, withoutLog, {})) as string;
      assert.ok(typeof noLogId === 'string' && meteorId.test(noLogId), 'a doc without log is accepted');
      assert.deepEqual(messages(await fetchDoc(client, noLogId)), ['Job Submitted', 'Promoted to ready']);
      const nullId = await client.call(`${root}_jobSave`, { ...base(), _id: null });
      assert.ok(typeof nullId === 'string' && meteorId.test(nullId), '_id: null is treated as absent');

      const antecedent = new Job(root, 'edge-antecedent', {});
      const antecedentId = await saveId(antecedent);
      assert.equal(await done(await claim('edge-antecedent')), true);
      const paused = new Job(root, 'edge-paused', {}).depends([antecedent]);
      await viaCallback((cb) => paused.pause(cb));
      const pausedId = await saveId(paused);
      assert.deepEqual(pick(await fetchDoc(client, pausedId, {}), ['status', 'depends', 'resolved']), {
        status: 'paused',
        depends: [],
        resolved: [antecedentId],
      });

      const capped = await fetchDoc(client, (await client.call(`${root}_jobSave`, { ...base(), retries: 1e20, repeats: 1e20, repeatWait: 60_000 })) as string, {});
      assert.equal(capped.retries, forever, 'retries capped at forever');
      assert.equal(capped.repeats, forever, 'repeats capped at forever');

      for (const [what, change] of [
        ['repeatWait as a string', { repeatWait: 'soon' }],
        ['a negative repeatWait', { repeatWait: -1 }],
        ['a fractional repeatWait', { repeatWait: 1.5 }],
        ['a schedule without a schedules array', { repeatWait: { schedules: 'daily' } }],
        ['a priority beyond int32', { priority: 2 ** 31 }],
        ['workTimeout 0', { workTimeout: 0 }],
        ['an unknown status', { status: 'done' }],
        ['a bad log level', { log: [{ time: new Date(), runId: null, level: 'fatal', message: 'x' }] }],
        ['retryBackoff linear', { retryBackoff: 'linear' }],
        ['data as an array', { data: [1, 2] }],
      ] as const) {
        try {
          assertMeteorError(await rejectionOf(client.call(`${root}_jobSave`, { ...base(), ...change })), 400, 'Match failed');
        } catch (error) {
          throw new Error(`jobSave with ${what}: ${(error as Error).message}`, { cause: error });
        }
      }
      const completedId = antecedentId;
      assertMeteorError(await rejectionOf(client.call(`${root}_jobRerun`, completedId, { wait: 'soon' })), 400, 'Match failed');
      assertMeteorError(await rejectionOf(client.call(`${root}_jobRerun`, completedId, { wait: -5 })), 400, 'Match failed');
      assert.equal(typeof (await client.call(`${root}_jobRestart`, 'no-such-job', { retries: 0 })), 'boolean', 'jobRestart retries 0 is valid');
    }));

  it('40 while stopped the lease-expiry pass does not run; the shutdown deadline fails the job instead (§2.1, §2.3)', () =>
    withServer({ CUMULUS_PROMOTE_INTERVAL_MS: '50' }, async ({ client }) => {
      const id = await saveId(new Job(root, 'stopped-lease', {}));
      const [job] = await getWork('stopped-lease', { maxJobs: 1, workTimeout: 200 });
      assert.ok(job);
      assert.equal(await viaCallback((cb) => Job.shutdownJobServer(root, { timeout: 1200 }, cb)), true);
      await waitFor(async () => (await statusOf(client, id)) !== 'running', { ...patience, description: 'the job stops running' });
      const doc = await fetchDoc(client, id);
      assert.deepEqual(doc.failures, [{ value: 'Running at Job Server shutdown.', runId: job.doc.runId }], 'failed by the deadline, not by the 200 ms lease');
      assert.equal(doc.status, 'failed');
      assert.equal(await viaCallback((cb) => Job.startJobServer(root, cb)), true);
    }));

  it('41 JobQueue shutdown: normal fails queued jobs with "Worker shutdown" and waits for running ones; hard fails those too (§4.3)', () =>
    withServer({}, async ({ client }) => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i += 1) ids.push(await saveId(new Job(root, 'qshut', { i })));
      const held: Job[] = [];
      const queue = Job.processJobs(root, 'qshut', { concurrency: 1, prefetch: 2, pollInterval: 100 }, (job, cb) => {
        held.push(job as Job);
        (job as Job & { release?: () => void }).release = cb;
      });
      await waitFor(() => queue.running() === 1 && queue.length() === 2, { ...patience, description: '1 running, 2 queued locally' });
      const runningJob = held[0] as Job & { release?: () => void };
      let shutDown = false;
      const stopped = new Promise<void>((resolve) =>
        queue.shutdown({ level: 'normal', quiet: true }, () => {
          shutDown = true;
          resolve();
        }),
      );
      const queuedIds = ids.filter((id) => id !== runningJob.doc._id);
      // meteor-job waits for the running task first, then fails the tasks it had queued.
      assert.equal(await done(runningJob), true, 'the running task still completes');
      assert.equal(shutDown, false, 'normal shutdown waits for the running task');
      runningJob.release?.();
      await stopped;
      for (const id of queuedIds) {
        const doc = await fetchDoc(client, id);
        assert.equal(doc.status, 'failed');
        assert.equal(doc.failures?.[0]?.value, 'Worker shutdown');
        assert.deepEqual(pick(lastLog(doc), ['message', 'level']), { message: 'Job Failed with Fatal Error: Worker shutdown.', level: 'danger' });
      }
      assert.equal(await statusOf(client, runningJob.doc._id as string), 'completed');

      const hardId = await saveId(new Job(root, 'qshut-hard', {}).retry({ retries: 1, wait: 60_000 }));
      let started = false;
      const hardQueue = Job.processJobs(root, 'qshut-hard', { pollInterval: 100 }, () => {
        started = true; // never calls back: a hung task
      });
      await waitFor(() => started, { ...patience, description: 'the hard-shutdown task started' });
      await new Promise<void>((resolve) => hardQueue.shutdown({ level: 'hard', quiet: true }, () => resolve()));
      const hardDoc = await fetchDoc(client, hardId);
      assert.equal(hardDoc.status, 'waiting', 'failed non-fatally: its retry is left');
      assert.equal(hardDoc.failures?.[0]?.value, 'Worker shutdown');
    }));

  it('42 a failed check is Meteor\'s {isClientSafe, error:400, reason, message, errorType}, plus the detail in `details` (§1.7; README differences)', () =>
    withServer({}, async ({ client }) => {
      const expected = { isClientSafe: true, error: 400, reason: 'Match failed', message: 'Match failed [400]', errorType: 'Meteor.Error' };
      const nullOptions = (await rejectionOf(client.call(`${root}_getWork`, 'x', null))) as Record<string, unknown>;
      assert.deepEqual(Object.keys(nullOptions), ['isClientSafe', 'error', 'reason', 'details', 'message', 'errorType']);
      assert.deepEqual({ ...nullOptions, details: undefined }, { ...expected, details: undefined });
      assert.match(String(nullOptions.details), /^options: /);
      const bad = new Job(root, 'x', {});
      bad.doc.status = 'running';
      const badStatus = (await rejectionOf(save(bad))) as Record<string, unknown>;
      assert.deepEqual({ ...badStatus, details: undefined }, { ...expected, details: undefined });
      assert.match(String(badStatus.details), /^doc\.status: /);
    }));

  it('43 EJSON round trip of job data, results and log data: Dates, binary, NaN/Infinity, escaped look-alikes (§1.9)', () =>
    withServer({}, async ({ client }) => {
      const EJSON = (client.ddp as unknown as { EJSON: { newBinary(size: number): Uint8Array } }).EJSON;
      const bin = EJSON.newBinary(3);
      bin.set([1, 2, 255]);
      const data = {
        when: new Date(1234567890123),
        bin,
        nan: NaN,
        inf: -Infinity,
        escaped: { $date: 'not a date' },
        typed: { $type: 'x', $value: 1 },
        nested: [1, null, 'x', { deep: [new Date(0)] }],
      };
      const id = await saveId(new Job(root, 'ejson', data));
      const job = await claim('ejson');
      assert.deepEqual(job.data, data, 'getWork gives the data back as sent');
      assert.ok(job.data.bin instanceof Uint8Array);
      assert.equal(await viaCallback((cb) => job.log('typed', { data: { at: new Date(5), $escape: 1 } }, cb)), true);
      assert.equal(await done(job, { finishedAt: new Date(42), bytes: bin }), true);
      const doc = await fetchDoc(client, id);
      assert.deepEqual(doc.result, { finishedAt: new Date(42), bytes: bin });
      assert.deepEqual(findLog(doc, 'typed').data, { at: new Date(5), $escape: 1 });
      assert.deepEqual(doc.data, data);
    }));

  it('44 two workers asking at once never get the same job (§2.3 getWork: atomic claims)', () =>
    withServer({}, async ({ server, client }) => {
      const ids = new Set<string>();
      for (let i = 0; i < 30; i += 1) ids.add(await saveId(new Job(root, 'race', { i })));
      const other = await connectMeteorJob(server.port, [root]);
      try {
        const claimedBy = async (worker: MeteorJobClient) => {
          const got: string[] = [];
          for (;;) {
            const docs = (await worker.call(`${root}_getWork`, ['race'], { maxJobs: 4 })) as Doc[];
            if (docs.length === 0) return got;
            got.push(...docs.map((doc) => doc._id));
          }
        };
        const [a, b] = await Promise.all([claimedBy(client), claimedBy(other)]);
        const all = [...a, ...b];
        assert.equal(all.length, 30, 'every job claimed once');
        assert.deepEqual(new Set(all), ids);
      } finally {
        other.close();
      }
    }));

  it('45 permission groups: each role may call exactly its group, admin everything, nobody before login (§3.8; getJob in 46)', () =>
    withServer(
      { CUMULUS_TOKENS: 'admin:admin-secret-1,manager:manager-secret-1,creator:creator-secret-1,worker:worker-secret-1' },
      async ({ client }) => {
        // Well-formed, harmless arguments: missing jobs, unknown types. Only 403 counts as denied.
        const doc = new Job(root, 'perm', {}).doc;
        const calls: Record<string, unknown[]> = {
          getWork: [['perm-none'], {}],
          jobLog: ['missing', null, 'x', {}],
          jobProgress: ['missing', 'run', 0, 1, {}],
          jobDone: ['missing', 'run', {}, {}],
          jobFail: ['missing', 'run', {}, {}],
          jobRemove: ['missing', {}],
          jobPause: ['missing', {}],
          jobResume: ['missing', {}],
          jobCancel: ['missing', {}],
          jobReady: [['missing'], {}],
          jobRestart: ['missing', {}],
          jobSave: [doc, {}],
          jobRerun: ['missing', { wait: 0 }],
          startJobServer: [{}],
          startJobs: [{}],
        };
        const allowedFor = async (): Promise<string[]> => {
          const allowed: string[] = [];
          for (const [name, params] of Object.entries(calls)) {
            try {
              await client.call(`${root}_${name}`, ...params);
              allowed.push(name);
            } catch (error) {
              if ((error as MeteorError).error !== 403) allowed.push(name);
              else assertMeteorError(error, 403, 'Method not authorized');
            }
          }
          return allowed.sort();
        };
        assert.deepEqual(await allowedFor(), [], 'not logged in: everything is 403');
        const groups: Record<string, string[]> = {
          manager: ['jobRemove', 'jobPause', 'jobResume', 'jobCancel', 'jobReady', 'jobRestart'],
          creator: ['jobSave', 'jobRerun'],
          worker: ['getWork', 'jobLog', 'jobProgress', 'jobDone', 'jobFail'],
          admin: Object.keys(calls),
        };
        for (const [role, methods] of Object.entries(groups)) {
          await client.call('login', { resume: `${role}-secret-1` });
          assert.deepEqual(await allowedFor(), [...methods].sort(), `${role} calls exactly its group`);
          await client.call('logout');
        }
        for (const role of ['manager', 'creator', 'worker']) {
          await client.call('login', { resume: `${role}-secret-1` });
          for (const name of ['shutdownJobServer', 'stopJobs']) {
            assertMeteorError(await rejectionOf(client.call(`${root}_${name}`, { timeout: 60_000 })), 403, 'Method not authorized');
          }
          await client.call('logout');
        }
      },
    ));

  it('46 every role may read jobs with getJob, so producers can await results (§3.8 gives it to workers only; README differences)', () =>
    withServer(
      { CUMULUS_TOKENS: 'admin:admin-secret-1,manager:manager-secret-1,creator:creator-secret-1,worker:worker-secret-1' },
      async ({ client }) => {
        const readAs = async (role: string): Promise<unknown> => {
          await client.call('login', { resume: `${role}-secret-1` });
          try {
            return await client.call(`${root}_getJob`, 'missing', {});
          } finally {
            await client.call('logout');
          }
        };
        for (const role of ['admin', 'worker', 'manager', 'creator']) assert.equal(await readAs(role), null, role);
        assertMeteorError(await rejectionOf(viaCallback((cb) => Job.getJob(root, 'missing', cb))), 403, 'Method not authorized');
      },
    ));
});
