/**
 * Durability off the event loop: a group commit's batch is answered only once its log is
 * synced, the next batch writes meanwhile, and checkpoints copy the log into the database file
 * from a thread of their own (or from the writer when that thread cannot run).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import { Checkpointer, type CheckpointerOptions } from '../../server/store/sqlite/checkpointer.ts';
import { GroupCommitQueue } from '../../server/store/sqlite/group-commit.ts';
import { SqliteDatabase } from '../../server/store/sqlite/sqlite-database.ts';
import { SqliteJobStore } from '../../server/store/sqlite/sqlite-job-store.ts';
import { makeJob } from '../helpers/job-fixtures.ts';

/** A durability function whose syncs the test finishes by hand, one by one. */
function manualSyncs() {
  const pending: { finish(): void; fail(error: Error): void }[] = [];
  const started: (() => void)[] = [];
  let count = 0;
  const durability = () =>
    new Promise<void>((resolve, reject) => {
      count += 1;
      pending.push({ finish: resolve, fail: reject });
      for (const wake of started.splice(0)) wake();
    });
  /** The next sync that was started (waiting for it to start if needed). */
  const next = async () => {
    while (pending.length === 0) await new Promise<void>((resolve) => started.push(resolve));
    return pending.shift() as { finish(): void; fail(error: Error): void };
  };
  return { durability, next, inFlight: () => pending.length, started: () => count };
}

/** Whether a promise has settled, looked at after pending callbacks ran. */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('group commit with a durability function', () => {
  let db: Sqlite.Database;

  beforeEach(() => {
    db = new Sqlite(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  });

  afterEach(() => {
    db.close();
  });

  const insert = (id: number) => () => db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').run(id, 'x').changes;
  const rows = () => (db.prepare('SELECT id FROM t ORDER BY id').all() as { id: number }[]).map((row) => row.id);

  it('answers a batch only once synced, lets the next batch write meanwhile, and settles batches in order', async () => {
    const syncs = manualSyncs();
    const queue = new GroupCommitQueue(db, syncs.durability);
    const settledOrder: string[] = [];
    const first = queue.enqueue({ run: insert(1) }).then(() => settledOrder.push('first'));
    const firstSync = await syncs.next();
    assert.deepEqual(rows(), [1], 'the first batch is committed');
    assert.equal(await settledYet(first), false, 'but not answered before its sync');

    const second = queue.enqueue({ run: insert(2) }).then(() => settledOrder.push('second'));
    // The second batch writes while the first one's sync is in progress...
    while (!rows().includes(2)) await new Promise((resolve) => setImmediate(resolve));
    // ...and its own sync waits for the one in progress, which may have started before it.
    assert.equal(syncs.inFlight(), 0);
    assert.equal(await settledYet(second), false);

    firstSync.finish();
    await first;
    assert.equal(await settledYet(second), false, 'the second batch waits for a sync of its own');
    (await syncs.next()).finish();
    await second;
    assert.deepEqual(settledOrder, ['first', 'second']);
    await queue.close('done');
  });

  it('shares one sync among the batches committed while another sync was in progress', async () => {
    const syncs = manualSyncs();
    const queue = new GroupCommitQueue(db, syncs.durability);
    const first = queue.enqueue({ run: insert(1) });
    const firstSync = await syncs.next();
    const later: Promise<unknown>[] = [];
    for (const id of [2, 3, 4]) {
      later.push(queue.enqueue({ run: insert(id) }));
      // One batch per event-loop turn.
      while (!rows().includes(id)) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(queue.batchCount, 4);
    assert.equal(syncs.started(), 1, 'no second sync while the first is in progress');
    firstSync.finish();
    await first;
    (await syncs.next()).finish();
    await Promise.all(later);
    assert.equal(syncs.started(), 2, 'one sync covered the three batches committed behind the first');
    await queue.close('done');
  });

  it('runs a quiesced read only once every committed batch is announced, holding later batches', async () => {
    const syncs = manualSyncs();
    const queue = new GroupCommitQueue(db, syncs.durability);
    const announced: number[] = [];
    const observer = { batchCommitted: (batch: number) => announced.push(batch), batchAborted: () => undefined };
    const first = queue.enqueue({ run: insert(1), observer });
    const firstSync = await syncs.next();
    // Committed, not yet announced: a read now would see row 1 before its change is told.
    let readSaw: number[] | undefined;
    const read = queue.quiesced(() => (readSaw = rows()));
    const later = queue.enqueue({ run: insert(2), observer });
    assert.equal(await settledYet(read), false, 'the read waits for the batch in sync');
    firstSync.finish();
    await first;
    assert.deepEqual(await read, [1]);
    assert.deepEqual(readSaw, [1]);
    assert.deepEqual(announced, [1], 'the read came after the announcement, and before the next batch');
    (await syncs.next()).finish();
    await later;
    assert.deepEqual(rows(), [1, 2]);
    await queue.close('done');
  });

  it('rejects the batch of a failed sync and refuses every later work with the reason', async () => {
    const syncs = manualSyncs();
    const queue = new GroupCommitQueue(db, syncs.durability);
    const work = queue.enqueue({ run: insert(1) });
    (await syncs.next()).fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await assert.rejects(work, /could not be synced to disk \(EIO: i\/o error, fdatasync\); writes are refused until the server is restarted/);
    await assert.rejects(queue.enqueue({ run: insert(2) }), /could not be synced to disk/);
    await queue.close('done');
  });
});

describe('checkpoints of a SQLite file', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-checkpoint-'));
    file = path.join(dir, 'jobs.db');
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The jobs the database file holds by itself, without its write-ahead log. */
  function jobsInDatabaseFileAlone(): number {
    const copy = path.join(dir, 'copy.db');
    fs.copyFileSync(file, copy);
    const db = new Sqlite(copy, { readonly: true });
    try {
      // Before the first checkpoint even the schema is only in the log.
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'jobs'").get() === undefined) return 0;
      return (db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  /** A database holding one job, whose own checkpoints are held off: only the checkpointer under test copies the log. */
  async function databaseWithOneJob(): Promise<SqliteDatabase> {
    const database = SqliteDatabase.open(file, { checkpointIntervalMs: 3_600_000 });
    await new SqliteJobStore(database, 'queue', async () => {}).transaction((tx) => tx.insert(makeJob(), []));
    return database;
  }

  /** A checkpointer of `database` that checkpoints as soon as told, with its thread's script given. */
  function checkpointerUnderTest(database: SqliteDatabase, options: Pick<CheckpointerOptions, 'restartFrames' | 'onError' | 'script'>): Checkpointer {
    return new Checkpointer({ path: file, busyTimeoutMs: 1000, intervalMs: 0, writer: database.writer, ...options });
  }

  /** The frames (pages) the write-ahead log holds now, read by a connection of its own. */
  function framesInLog(): number {
    const db = new Sqlite(file);
    try {
      const [state] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      return state?.log ?? Number.NaN;
    } finally {
      db.close();
    }
  }

  async function saveJobs(store: SqliteJobStore, count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => store.transaction((tx) => tx.insert(makeJob(), []))));
  }

  it('copies committed batches into the database file from its own thread', async () => {
    const errors: Error[] = [];
    const database = SqliteDatabase.open(file, { checkpointIntervalMs: 0, onBackgroundError: (error) => errors.push(error) });
    const store = new SqliteJobStore(database, 'queue');
    try {
      assert.equal(jobsInDatabaseFileAlone(), 0);
      await saveJobs(store, 50);
      assert.ok(database.checkpointer);
      await database.checkpointer.whenIdle();
      assert.ok(database.checkpointer.checkpoints >= 1);
      assert.equal(jobsInDatabaseFileAlone(), 50);
      assert.deepEqual(errors, []);
    } finally {
      await store.close();
    }
  });

  it('has the writer catch up when a checkpoint leaves the log long, so that the log starts over', async () => {
    const database = await databaseWithOneJob();
    const checkpointer = checkpointerUnderTest(database, {
      restartFrames: 64,
      onError: (error) => assert.fail(error),
      script: new URL('./fixtures/lagging-checkpoint-worker.mjs', import.meta.url),
    });
    try {
      checkpointer.noteCommit();
      await checkpointer.whenIdle();
      assert.equal(checkpointer.checkpoints, 1);
      assert.equal(checkpointer.catchUps, 1);
      // The thread copied nothing; the writer's catch-up did.
      assert.equal(jobsInDatabaseFileAlone(), 1);
      // And the next commit starts the log over: it holds that commit's pages only (the row, its
      // indexes and the search index: a dozen or so, where the long log held over 64).
      await new SqliteJobStore(database, 'queue', async () => {}).transaction((tx) => tx.insert(makeJob(), []));
      assert.ok(framesInLog() < 20, `the log holds ${framesInLog()} frames`);
    } finally {
      await checkpointer.close();
      await database.close();
    }
  });

  it('falls back to checkpointing on the writer when its thread cannot run, and says so', async () => {
    const database = await databaseWithOneJob();
    const errors: Error[] = [];
    const checkpointer = checkpointerUnderTest(database, {
      restartFrames: 4096,
      onError: (error) => errors.push(error),
      script: new URL('./no-such-checkpoint-worker.mjs', import.meta.url),
    });
    try {
      checkpointer.noteCommit();
      await checkpointer.whenIdle();
      assert.equal(errors.length, 1);
      assert.match(errors[0]?.message ?? '', /the checkpoint thread stopped .*; checkpoints now run on the main thread/);
      // The checkpoint the thread could not run was done on the writer at once.
      assert.equal(checkpointer.checkpoints, 1);
      assert.equal(jobsInDatabaseFileAlone(), 1);
    } finally {
      await checkpointer.close();
      await database.close();
    }
  });
});
