// The documents our builder makes are the ones meteor-job 1.5.2 makes, chain for chain, as
// they go on the wire (EJSON), times aside.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import EJSON from 'ejson';
import MeteorJob from 'meteor-job';
import { Job } from '../../worker/index.ts';

type Chain<J> = (job: J) => J;

const until = new Date('2031-01-02T03:04:05Z');
const at = new Date('2030-06-01T00:00:00Z');
const schedule = { schedules: [{ h: [3], m: [15] }], exceptions: [{ dw: [1] }] };

/** Both documents as sent, with the times the two constructors took left out. */
function wire(doc: object): Record<string, unknown> {
  const plain = EJSON.parse(EJSON.stringify(doc)) as Record<string, unknown>;
  delete plain.created;
  delete plain.updated;
  for (const entry of (plain.log as { time?: unknown }[] | undefined) ?? []) delete entry.time;
  return plain;
}

function same(name: string, ours: Chain<Job>, theirs: Chain<MeteorJob>, data: Record<string, unknown> = { n: 1 }): void {
  it(name, () => {
    const mine = ours(new Job('queue', 'email', data)).doc;
    const original = theirs(new MeteorJob('queue', 'email', data)).doc;
    assert.deepEqual(wire(mine), wire(original));
  });
}

describe('Job builder documents equal meteor-job’s', () => {
  same('new Job(root, type, data)', (j) => j, (j) => j, { to: 'a@example.com', nested: { list: [1, 2] } });
  same('priority(name) and retry(n)', (j) => j.priority('high').retry(2), (j) => j.priority('high').retry(2));
  same('priority(int) and retry({...}) with every option',
    (j) => j.priority(7).retry({ retries: 3, wait: 1000, backoff: 'exponential', until }),
    (j) => j.priority(7).retry({ retries: 3, wait: 1000, backoff: 'exponential', until }));
  same('retry({wait}) without retries retries forever', (j) => j.retry({ wait: 5000 }), (j) => j.retry({ wait: 5000 }));
  same('repeat(n)', (j) => j.repeat(3), (j) => j.repeat(3));
  same('repeat({repeats, wait, until})', (j) => j.repeat({ repeats: 2, wait: 60_000, until }), (j) => j.repeat({ repeats: 2, wait: 60_000, until }));
  same('repeat({}) repeats forever', (j) => j.repeat({}), (j) => j.repeat({}));
  same('repeat({schedule}) keeps schedules and exceptions only',
    (j) => j.repeat({ schedule: { ...schedule, error: 'x' } as typeof schedule }),
    (j) => j.repeat({ schedule: { ...schedule, error: 'x' } }));
  same('repeat({schedule}) without exceptions', (j) => j.repeat({ schedule: { schedules: schedule.schedules } }), (j) => j.repeat({ schedule: { schedules: schedule.schedules } }));
  same('after(date)', (j) => j.after(at), (j) => j.after(at));
  same('a long chain', (j) => j.priority('critical').retry({ retries: 0 }).repeat({ repeats: 1, wait: 0 }).after(at).priority('low'),
    (j) => j.priority('critical').retry({ retries: 0 }).repeat({ repeats: 1, wait: 0 }).after(at).priority('low'));

  it('depends([saved jobs]) lists their ids; depends() clears them', () => {
    const ours = (id: string) => new Job('queue', { ...new Job('queue', 't', {}).doc, _id: id });
    const theirs = (id: string) => new MeteorJob('queue', { ...new MeteorJob('queue', 't', {}).doc, _id: id });
    const mine = new Job('queue', 'email', {}).depends([ours('a'), ours('b')]).doc;
    const original = new MeteorJob('queue', 'email', {}).depends([theirs('a'), theirs('b')]).doc;
    assert.deepEqual(wire(mine), wire(original));
    assert.deepEqual(mine.depends, ['a', 'b']);
    assert.deepEqual(new Job('queue', 'email', {}).depends(ours('a')).depends().doc.depends, []);
  });

  it('delay(ms) sets after to now + ms', () => {
    const before = Date.now();
    const after = new Job('queue', 'email', {}).delay(5000).doc.after.getTime();
    assert.ok(after >= before + 5000 && after <= Date.now() + 5000);
  });

  it('log, progress and pause on an unsaved job change its document, as meteor-job does', async () => {
    const mine = new Job('queue', 'email', {});
    assert.equal(await mine.log('hello', { level: 'warning' }), true);
    assert.equal(await mine.progress(1, 4), true);
    assert.equal(await mine.pause(), true);
    const original = new MeteorJob('queue', 'email', {});
    original.log('hello', { level: 'warning' });
    original.progress(1, 4);
    original.pause();
    assert.deepEqual(wire(mine.doc), wire(original.doc));
    assert.equal(await mine.resume(), true);
    assert.equal(mine.doc.status, 'waiting');
  });

  it('refuses what meteor-job refuses', () => {
    const job = new Job('queue', 'email', {});
    assert.throws(() => job.priority('urgent' as never), /Invalid priority/);
    assert.throws(() => job.priority(1.5), /priority must be an integer/);
    assert.throws(() => job.retry(-1), /retries must be an integer/);
    assert.throws(() => job.retry({ backoff: 'linear' as never }), /backoff/);
    assert.throws(() => job.retry({ until: 'tomorrow' as never }), /until must be a Date/);
    assert.throws(() => job.repeat({ wait: 5, schedule }), /mutually exclusive/);
    assert.throws(() => job.repeat({ schedule: { schedules: 'daily' } as never }), /schedules array/);
    assert.throws(() => job.delay(-5), /non-negative/);
    assert.throws(() => job.after('2030' as never), /Date/);
    assert.throws(() => job.depends([new Job('queue', 'unsaved', {})]), /saved Job/);
    assert.throws(() => new Job('queue', 42 as never, {}), TypeError);
  });

  it('wraps a server document without changing it, and returns a Job given a Job', () => {
    const doc = { ...new Job('queue', 't', { a: 1 }).doc, _id: 'id-1', status: 'running' as const, runId: 'r' };
    const job = new Job('queue', doc);
    assert.equal(job.doc, doc);
    assert.equal(job.id, 'id-1');
    assert.equal(job.type, 't');
    assert.deepEqual(job.data, { a: 1 });
    assert.equal(Job.makeJob('queue', doc).doc, doc);
  });

  it('has meteor-job’s constants', () => {
    assert.equal(Job.forever, MeteorJob.forever);
    assert.deepEqual(Job.foreverDate, MeteorJob.foreverDate);
    assert.deepEqual(Job.jobPriorities, MeteorJob.jobPriorities);
    assert.deepEqual([...Job.jobStatuses], MeteorJob.jobStatuses);
    const original = MeteorJob as unknown as Record<string, unknown>;
    for (const name of ['jobLogLevels', 'jobRetryBackoffMethods', 'jobStatusCancellable', 'jobStatusPausable', 'jobStatusRemovable', 'jobStatusRestartable'] as const) {
      assert.deepEqual([...Job[name]], original[name], name);
    }
  });
});
