// What each call sends is what meteor-job 1.5.2 sends (docs/PROTOCOL.md §4.2): both clients run the
// same operations against one scripted server, which records every method call.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import DDPClient from 'ddp';
import EJSON from 'ejson';
import MeteorJob from 'meteor-job';
import { connect, Job, type CumulusConnection, type JobDoc } from '../../worker/index.ts';
import { viaCallback } from '../helpers/meteor-job-client.ts';
import { ScriptedDdpServer } from './helpers/scripted-ddp-server.ts';
import { testConnectOptions } from './helpers/worker-env.ts';

const running = { ...new MeteorJob('queue', 'wire', { n: 1 }).doc, _id: 'job-1', runId: 'run-1', status: 'running' };

function answer(method: string, params: unknown[]): unknown {
  switch (method) {
    case 'queue_getWork':
      return [running];
    case 'queue_getJob':
      return Array.isArray(params[0]) ? (params[0] as string[]).map((id) => ({ ...running, _id: id })) : running;
    case 'queue_jobSave':
      return 'new-id';
    case 'queue_jobRerun':
      return 'rerun-id';
    default:
      return true;
  }
}

/**
 * The calls recorded from `from` (to `to`), as [method, params] with the builder's times left
 * out, and the one deliberate addition: the id Cumulus' client gives a new job in jobSave's
 * options, so that a save retried after a lost answer is not saved twice (docs/PROTOCOL.md §7.10).
 */
function callsSince(server: ScriptedDdpServer, from: number, to?: number): [string, unknown][] {
  return server.received.slice(from, to).filter((r) => r.message.msg === 'method').map((r) => {
    const params = EJSON.parse(EJSON.stringify(r.message.params as object)) as unknown[];
    const doc = params[0] as Record<string, unknown> | undefined;
    if (r.message.method === 'queue_jobSave' && doc !== undefined) {
      delete doc.created;
      delete doc.updated;
      for (const entry of doc.log as Record<string, unknown>[]) delete entry.time;
      const options = params[1] as Record<string, unknown> | undefined;
      if (typeof options?.id === 'string') {
        assert.match(options.id, /^[23456789A-HJ-NP-Za-km-z]{17}$/, 'a Meteor-style id');
        delete options.id;
      }
    }
    return [r.message.method as string, params];
  });
}

describe('calls on the wire equal meteor-job’s', () => {
  let server: ScriptedDdpServer;
  let ddp: DDPClient;
  let connection: CumulusConnection;

  before(async () => {
    server = await ScriptedDdpServer.start((method, params) => answer(method, params));
    const port = Number(new URL(server.url).port);
    ddp = new DDPClient({ host: '127.0.0.1', port, autoReconnect: false });
    await new Promise<void>((resolve, reject) => ddp.connect((error) => (error ? reject(error as Error) : resolve())));
    MeteorJob.setDDP(ddp, ['queue']);
    connection = await connect(server.url, testConnectOptions);
  });
  after(async () => {
    ddp.close();
    await connection.close();
    await server.stop();
  });

  /** Runs `theirs` with meteor-job, then `ours`, and compares what each sent. */
  const compare = (name: string, theirs: () => Promise<unknown>, ours: () => Promise<unknown>) => {
    it(name, async () => {
      const start = server.received.length;
      await theirs();
      const middle = server.received.length;
      await ours();
      const sent = callsSince(server, middle);
      assert.ok(sent.length > 0, 'we sent something');
      assert.deepEqual(sent, callsSince(server, start, middle));
    });
  };
  const theirJob = () => new MeteorJob('queue', running);
  const ourJob = () => new Job('queue', running as unknown as JobDoc);
  const cb = <T>(start: (cb: (e: unknown, r: T) => void) => void) => viaCallback<T>(start);

  compare('save', () => cb((c) => new MeteorJob('queue', 'wire', { a: 1 }).priority('high').retry(2).save(c)),
    () => new Job('queue', 'wire', { a: 1 }).priority('high').retry(2).save());
  compare('save with options', () => cb((c) => new MeteorJob('queue', 'wire', {}).save({ cancelRepeats: true }, c)),
    () => new Job('queue', 'wire', {}).save({ cancelRepeats: true }));
  compare('getWork', () => cb((c) => MeteorJob.getWork('queue', 'wire', {}, c as never)), () => Job.getWork('queue', 'wire'));
  compare('getWork with maxJobs and workTimeout', () => cb((c) => MeteorJob.getWork('queue', ['a', 'b'], { maxJobs: 3, workTimeout: 500 }, c as never)),
    () => Job.getWork('queue', ['a', 'b'], { maxJobs: 3, workTimeout: 500 }));
  compare('getJob', () => cb((c) => MeteorJob.getJob('queue', 'job-1', c)), () => Job.getJob('queue', 'job-1'));
  compare('refresh', () => cb((c) => theirJob().refresh(c)), () => ourJob().refresh());
  compare('log', () => cb((c) => theirJob().log('hi', { level: 'warning', data: { x: 1 }, echo: true }, c)),
    () => ourJob().log('hi', { level: 'warning', data: { x: 1 }, echo: true }));
  compare('progress', () => cb((c) => theirJob().progress(2, 8, c)), () => ourJob().progress(2, 8));
  compare('done', () => cb((c) => theirJob().done({ ok: 1 }, c)), () => ourJob().done({ ok: 1 }));
  compare('done with a non-object', () => cb((c) => theirJob().done(42, c)), () => ourJob().done(42));
  compare('done without a result', () => cb((c) => theirJob().done(c)), () => ourJob().done());
  compare('done with options', () => cb((c) => theirJob().done({}, { repeatId: true }, c)), () => ourJob().done({}, { repeatId: true }));
  compare('fail', () => cb((c) => theirJob().fail('boom', c)), () => ourJob().fail('boom'));
  compare('fail without an error', () => cb((c) => theirJob().fail(c)), () => ourJob().fail());
  compare('fail fatally', () => cb((c) => theirJob().fail({ code: 1 }, { fatal: true }, c)), () => ourJob().fail({ code: 1 }, { fatal: true }));
  compare('pause', () => cb((c) => theirJob().pause(c)), () => ourJob().pause());
  compare('resume', () => cb((c) => theirJob().resume(c)), () => ourJob().resume());
  compare('ready', () => cb((c) => theirJob().ready(c)), () => ourJob().ready());
  compare('cancel', () => cb((c) => theirJob().cancel(c)), () => ourJob().cancel());
  compare('restart', () => cb((c) => theirJob().restart(c)), () => ourJob().restart());
  compare('rerun', () => cb((c) => theirJob().rerun(c)), () => ourJob().rerun());
  compare('remove', () => cb((c) => theirJob().remove(c)), () => ourJob().remove());

  const ids = Array.from({ length: 600 }, (_, i) => `id-${i}`);
  compare('getJobs (32 ids per call)', () => cb((c) => MeteorJob.getJobs('queue', ids.slice(0, 70), {}, c)), () => Job.getJobs('queue', ids.slice(0, 70)));
  for (const name of ['pauseJobs', 'resumeJobs', 'cancelJobs', 'restartJobs', 'removeJobs', 'readyJobs'] as const) {
    compare(`${name} (256 ids per call)`,
      () => cb((c) => (MeteorJob[name] as (root: string, ids: string[], c: unknown) => void)('queue', ids, c)),
      () => (Job[name] as (root: string, ids: string[]) => Promise<boolean>)('queue', ids));
  }
  compare('readyJobs with no ids', () => cb((c) => MeteorJob.readyJobs('queue', [], c)), () => Job.readyJobs('queue'));
  compare('startJobServer', () => cb((c) => MeteorJob.startJobServer('queue', c)), () => Job.startJobServer('queue'));
  compare('shutdownJobServer', () => cb((c) => MeteorJob.shutdownJobServer('queue', c)), () => Job.shutdownJobServer('queue'));
  compare('stopJobs', () => cb((c) => (MeteorJob as unknown as { stopJobs(r: string, c: unknown): void }).stopJobs('queue', c)), () => Job.stopJobs('queue'));

  it('batch calls go out one per 256 ids', async () => {
    const start = server.received.length;
    assert.equal(await Job.cancelJobs('queue', ids), true);
    assert.deepEqual(callsSince(server, start).map(([, params]) => (params as string[][])[0]?.length), [256, 256, 88]);
  });
});
