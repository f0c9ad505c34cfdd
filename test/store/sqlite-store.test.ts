import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import Sqlite from 'better-sqlite3';
import EJSON from 'ejson';
import { pino } from 'pino';
import { createLogger } from '../../server/logger.ts';
import type { JobLogEntry } from '../../shared/job-doc.ts';
import type { JobChange, JobStore } from '../../server/store/job-store.ts';
import { openStores, parseDatabaseUrl } from '../../server/store/open-store.ts';
import { GroupCommitQueue } from '../../server/store/sqlite/group-commit.ts';
import {
  dependentsSql,
  expiredSql,
  nextPromotionSql,
  nextReadySql,
  promotableSql,
} from '../../server/store/sqlite/job-queries.ts';
import { latestSchemaVersion, migrate, migrations } from '../../server/store/sqlite/migrations.ts';
import { decodeLog, encodeDoc, encodeLogItems } from '../../server/store/sqlite/row-codec.ts';
import { SqliteDatabase } from '../../server/store/sqlite/sqlite-database.ts';
import { DatabaseLockedError } from '../../server/store/sqlite/server-lock.ts';
import { SqliteJobStore } from '../../server/store/sqlite/sqlite-job-store.ts';
import { StoreOpenError } from '../../server/store/store-open-error.ts';
import { makeJob, makeLogEntry } from '../helpers/job-fixtures.ts';
import { describeJobStoreConformance } from './job-store-conformance.ts';

function tempDir(): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cumulus-store-'));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

describeJobStoreConformance('sqlite file', async () => {
  const temp = tempDir();
  // The suite makes a commit listener throw on purpose: keep its logged error out of the output.
  const opened = await openStores(`sqlite:${path.join(temp.dir, 'jobs.db')}`, ['queue'], { logger: createLogger('silent') });
  const store = opened.stores.get('queue');
  assert.ok(store);
  return {
    store,
    async close() {
      await opened.close();
      temp.remove();
    },
  };
});

describeJobStoreConformance('sqlite :memory:', async () => {
  const opened = await openStores('sqlite::memory:', ['queue'], { logger: createLogger('silent') });
  const store = opened.stores.get('queue');
  assert.ok(store);
  return { store, close: () => opened.close() };
});

/** A promise and its resolver, to hold a work open while a test looks from outside. */
function gate(): { promise: Promise<void>; open(): void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('SQLite store', () => {
  let temp: ReturnType<typeof tempDir>;
  let file: string;

  beforeEach(() => {
    temp = tempDir();
    file = path.join(temp.dir, 'nested', 'dir', 'jobs.db');
  });

  afterEach(() => {
    temp.remove();
  });

  async function openOne(root = 'queue'): Promise<{ store: JobStore; close(): Promise<void> }> {
    const opened = await openStores(`sqlite:${file}`, [root]);
    const store = opened.stores.get(root);
    assert.ok(store);
    return { store, close: opened.close };
  }

  describe('durability and schema', () => {
    it('keeps jobs, logs and dependencies across a close and a reopen, creating the directory', async () => {
      const antecedent = makeJob({ status: 'running', runId: 'r1' });
      const dependent = makeJob({ depends: [antecedent._id], data: { when: new Date(5), list: [1, { a: 'b' }] } });
      const first = await openOne();
      await first.store.transaction(async (tx) => {
        await tx.insert(antecedent, [makeLogEntry('Job Submitted')]);
        await tx.insert(dependent, []);
        await tx.appendLog(antecedent._id, [makeLogEntry('Job Running', { runId: 'r1' })]);
      });
      await first.close();
      assert.ok(fs.statSync(file).isFile());

      const second = await openOne();
      const jobs = await second.store.getJobs([antecedent._id, dependent._id], { log: true });
      const byId = new Map(jobs.map((job) => [job._id, job]));
      assert.deepEqual(
        byId.get(antecedent._id)?.log?.map((entry) => entry.message),
        ['Job Submitted', 'Job Running'],
      );
      const { log: _log, ...storedDependent } = byId.get(dependent._id) ?? {};
      assert.deepEqual(storedDependent, dependent);
      const dependents = await second.store.transaction((tx) => tx.dependentsOf([antecedent._id]));
      assert.deepEqual(
        dependents.map((job) => job._id),
        [dependent._id],
      );
      await second.close();
    });

    it('applies migrations once, records the version, and reopens without migrating', async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const first = SqliteDatabase.open(file);
      assert.deepEqual(first.migrationsApplied, migrations.map((migration) => migration.version));
      await first.close();
      const second = SqliteDatabase.open(file);
      assert.deepEqual(second.migrationsApplied, []);
      assert.equal(second.writer.pragma('user_version', { simple: true }), latestSchemaVersion);
      assert.equal(second.writer.pragma('journal_mode', { simple: true }), 'wal');
      // NORMAL: COMMIT does not sync; the group commit syncs the log itself (see below).
      assert.equal(second.writer.pragma('synchronous', { simple: true }), 1);
      assert.equal(second.writer.pragma('wal_autocheckpoint', { simple: true }), 0);
      await second.close();

      const raw = new Sqlite(file);
      assert.deepEqual(migrate(raw), []);
      raw.close();
    });

    it('refuses to open a file another server holds, until that one closes it', async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const first = SqliteDatabase.open(file);
      assert.throws(() => SqliteDatabase.open(file), (error: unknown) => {
        assert.ok(error instanceof DatabaseLockedError);
        assert.match(error.message, /another Cumulus server is using it \(it holds .*jobs\.db\.lock\)/);
        return true;
      });
      await first.close();
      const second = SqliteDatabase.open(file);
      await second.close();
    });

    it('refuses a file written by a newer schema', async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const raw = new Sqlite(file);
      raw.pragma(`user_version = ${latestSchemaVersion + 1}`);
      raw.close();
      await assert.rejects(
        openStores(`sqlite:${file}`, ['queue']),
        (error) => error instanceof StoreOpenError && error.message.includes(file) && /newer Cumulus/.test(error.message),
      );
    });

    it('round-trips registered EJSON custom types', async () => {
      class Point {
        constructor(
          readonly x: number,
          readonly y: number,
        ) {}
        typeName() {
          return 'cumulus-test-point';
        }
        toJSONValue() {
          return { x: this.x, y: this.y };
        }
      }
      EJSON.addType('cumulus-test-point', (value) => {
        const { x, y } = value as { x: number; y: number };
        return new Point(x, y);
      });
      const job = makeJob({ data: { at: new Point(1, 2) } });
      const { store, close } = await openOne();
      await store.transaction((tx) => tx.insert(job, []));
      const [stored] = await store.getJobs([job._id]);
      assert.ok(stored?.data.at instanceof Point);
      assert.deepEqual(stored.data.at, new Point(1, 2));
      await close();
    });
  });

  describe('roots', () => {
    it('keeps two roots of one file apart', async () => {
      const opened = await openStores(`sqlite:${file}`, ['alpha', 'beta', 'alpha']);
      assert.deepEqual([...opened.stores.keys()], ['alpha', 'beta']);
      const alpha = opened.stores.get('alpha');
      const beta = opened.stores.get('beta');
      assert.ok(alpha && beta);
      const alphaChanges: JobChange[] = [];
      const betaChanges: JobChange[] = [];
      alpha.onCommit((changes) => alphaChanges.push(...changes));
      beta.onCommit((changes) => betaChanges.push(...changes));

      const shared = makeJob({ type: 't', status: 'ready' });
      const inBeta = { ...makeJob({ type: 't', status: 'ready', depends: ['dep'] }), _id: shared._id };
      await Promise.all([
        alpha.transaction((tx) => tx.insert(shared, [makeLogEntry('alpha')])),
        beta.transaction((tx) => tx.insert(inBeta, [makeLogEntry('beta')])),
      ]);
      assert.deepEqual(await alpha.counts(), { t: { ready: 1 } });
      assert.deepEqual(
        (await beta.getJobs([shared._id], { log: true }))[0]?.log?.map((entry) => entry.message),
        ['beta'],
      );
      assert.equal((await alpha.transaction((tx) => tx.dependentsOf(['dep']))).length, 0);
      assert.equal((await beta.transaction((tx) => tx.dependentsOf(['dep']))).length, 1);
      assert.equal(await alpha.transaction((tx) => tx.remove([shared._id])), 1);
      assert.equal((await beta.getJobs([shared._id])).length, 1);
      assert.deepEqual(
        alphaChanges.map((change) => change.status),
        ['ready', null],
      );
      assert.deepEqual(
        betaChanges.map((change) => change.status),
        ['ready'],
      );

      // Closing one store leaves the other working; the file closes with the last one.
      await alpha.close();
      assert.equal((await beta.list({}, { limit: 5, order: 'created-asc' })).length, 1);
      await opened.close();
      await assert.rejects(beta.counts(), /closed/);
    });
  });

  describe('opening', () => {
    const refused = async (url: string, pattern: RegExp) => {
      await assert.rejects(openStores(url, ['queue']), (error) => {
        assert.ok(error instanceof StoreOpenError, String(error));
        assert.match(error.message, pattern);
        return true;
      });
    };

    it('names the accepted forms for an unknown or malformed URL', async () => {
      await refused('postgres://localhost/db', /"postgres:".*sqlite:\.\/relative\/path\.db.*sqlite::memory:/);
      await refused('just-a-path.db', /has no scheme.*Accepted forms/);
      await refused('sqlite:', /names no file/);
      await refused('sqlite:///tmp/x.db', /ambiguous/);
    });

    it('reports a path that is a directory, not a database, or not creatable', async () => {
      await refused(`sqlite:${temp.dir}`, new RegExp(`${escape(temp.dir)}: it is a directory`));
      const text = path.join(temp.dir, 'notes.db');
      fs.writeFileSync(text, 'these are not the pages of a SQLite database\n'.repeat(100));
      await refused(`sqlite:${text}`, new RegExp(`${escape(text)}: file is not a database`));
      const blocked = path.join(text, 'below', 'jobs.db');
      await refused(`sqlite:${blocked}`, new RegExp(`${escape(blocked)}: .*ENOTDIR`));
    });

    it('resolves a relative path against the working directory', () => {
      assert.deepEqual(parseDatabaseUrl('sqlite:./data/x.db'), { kind: 'sqlite', path: path.resolve('data/x.db') });
      assert.deepEqual(parseDatabaseUrl('sqlite:/abs/x.db'), { kind: 'sqlite', path: '/abs/x.db' });
      assert.deepEqual(parseDatabaseUrl(' sqlite::memory: '), { kind: 'sqlite', path: ':memory:' });
    });
  });

  describe('group commit', () => {
    let database: SqliteDatabase;
    let store: SqliteJobStore;

    beforeEach(() => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      database = SqliteDatabase.open(file);
      store = new SqliteJobStore(database, 'queue');
    });

    afterEach(async () => {
      await store.close();
    });

    it('commits a burst in one batch; the failing work alone is rolled back', async () => {
      const batches = database.queue.batchCount;
      const notified: JobChange[][] = [];
      store.onCommit((changes) => notified.push([...changes]));
      const jobs = Array.from({ length: 100 }, () => makeJob());
      const results = await Promise.allSettled(
        jobs.map((job, index) =>
          store.transaction(async (tx) => {
            await tx.insert(job, [makeLogEntry('in')]);
            if (index === 42) throw new Error('bad one');
            return job._id;
          }),
        ),
      );
      assert.equal(database.queue.batchCount - batches, 1);
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 99);
      assert.equal(results[42]?.status, 'rejected');
      assert.equal(notified.length, 1);
      assert.equal(notified[0]?.length, 99);
      const stored = await store.getJobs(jobs.map((job) => job._id));
      assert.equal(stored.length, 99);
      assert.ok(!stored.some((job) => job._id === jobs[42]?._id));
      const logEntries = database.reader.prepare("SELECT sum(json_array_length('[' || log || ']')) AS n FROM jobs").get() as { n: number };
      assert.equal(logEntries.n, 99);
    });

    it('collapses the changes of one job across the transactions of a batch', async () => {
      const notified: JobChange[][] = [];
      store.onCommit((changes) => notified.push([...changes]));
      const job = makeJob({ type: 'k' });
      await Promise.all([
        store.transaction((tx) => tx.insert(job, [])),
        store.transaction((tx) => tx.update(job._id, { status: 'ready' })),
        store.transaction(async (tx) => {
          const ephemeral = makeJob();
          await tx.insert(ephemeral, []);
          await tx.remove([ephemeral._id]);
        }),
      ]);
      assert.deepEqual(notified.map((changes) => changes.map(({ doc: _doc, ...change }) => change)), [[{ id: job._id, type: 'k', previousStatus: null, status: 'ready' }]]);
    });

    it('puts works queued during a batch into the next one', async () => {
      const batches = database.queue.batchCount;
      const hold = gate();
      const started = gate();
      const first = store.transaction(async (tx) => {
        await tx.insert(makeJob(), []);
        started.open();
        // Outside the contract (a work must only await its transaction), on purpose: it keeps
        // the batch open while the test queues another transaction.
        await hold.promise;
      });
      await started.promise;
      const second = store.transaction((tx) => tx.insert(makeJob(), []));
      hold.open();
      await Promise.all([first, second]);
      assert.equal(database.queue.batchCount - batches, 2);
    });

    it('shows reads outside transactions only committed data', async () => {
      const job = makeJob();
      const hold = gate();
      const written = gate();
      const committed = store.transaction(async (tx) => {
        await tx.insert(job, []);
        written.open();
        await hold.promise;
      });
      await written.promise;
      assert.deepEqual(await store.getJobs([job._id]), []);
      // Counts wait for the batch and its announcement: a baseline the feed's changes add to.
      let counted: unknown;
      const counting = store.counts().then((counts) => (counted = counts));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(counted, undefined);
      hold.open();
      await committed;
      assert.equal((await store.getJobs([job._id])).length, 1);
      await counting;
      assert.deepEqual(counted, { [job.type]: { [job.status]: 1 } });
    });

    it('rejects a transaction started from inside a work instead of deadlocking', async () => {
      const job = makeJob();
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insert(job, []);
          await store.transaction((inner) => inner.find({}));
        }),
        /inside a transaction/,
      );
      assert.deepEqual(await store.getJobs([job._id]), []);
    });

    it('logs a commit listener that throws under its name; the transaction and the other listeners go on', async () => {
      const lines: Record<string, unknown>[] = [];
      const logger = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
      const logged = new SqliteJobStore(database, 'logged', async () => undefined, logger);
      const heard: string[] = [];
      logged.onCommit(() => {
        throw new Error('listener bug');
      }, 'the buggy listener');
      logged.onCommit((changes) => heard.push(...changes.map((change) => change.id)), 'a good listener');
      const job = makeJob();
      await logged.transaction((tx) => tx.insert(job, []));
      await logged.close();
      assert.deepEqual(heard, [job._id]);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.listener, 'the buggy listener');
      assert.equal(lines[0]?.root, 'logged');
      assert.equal((lines[0]?.err as { message?: string } | undefined)?.message, 'listener bug');
    });

    it('accepts transactions started from a commit listener', async () => {
      const follow = makeJob();
      const followed = new Promise<void>((resolve, reject) => {
        const unsubscribe = store.onCommit(() => {
          unsubscribe();
          store.transaction((tx) => tx.insert(follow, [])).then(resolve, reject);
        });
      });
      await store.transaction((tx) => tx.insert(makeJob(), []));
      await followed;
      assert.equal((await store.getJobs([follow._id])).length, 1);
    });

    it('removes the pending-dependency rows with the job (its log goes with its row)', async () => {
      const job = makeJob({ status: 'cancelled', depends: ['a', 'b'] });
      await store.transaction((tx) => tx.insert(job, [makeLogEntry('1'), makeLogEntry('2')]));
      const rows = () =>
        database.reader
          .prepare(
            "SELECT coalesce((SELECT json_array_length('[' || log || ']') FROM jobs WHERE id = @id), 0) AS logs, " +
              '(SELECT count(*) FROM job_depends WHERE dependent = @id) AS depends',
          )
          .get({ id: job._id });
      assert.deepEqual(rows(), { logs: 2, depends: 2 });
      await store.transaction((tx) => tx.update(job._id, { depends: ['b'], resolved: ['a'] }));
      assert.deepEqual(rows(), { logs: 2, depends: 1 });
      await store.transaction((tx) => tx.remove([job._id]));
      assert.deepEqual(rows(), { logs: 0, depends: 0 });
    });

    it('refuses a transaction object used after its work ended', async () => {
      let leaked: Parameters<Parameters<JobStore['transaction']>[0]>[0] | undefined;
      await store.transaction(async (tx) => {
        leaked = tx;
      });
      assert.ok(leaked);
      await assert.rejects(leaked.insert(makeJob(), []), /transaction has ended/);
    });

    it('explains to the caller why its transaction was refused after close', async () => {
      await store.close();
      await assert.rejects(store.transaction((tx) => tx.find({})), /job store of "queue" is closed/);
    });
  });

  describe('a failing COMMIT', () => {
    it('rejects every work of the batch and keeps none of it', async () => {
      const db = new Sqlite(':memory:');
      db.pragma('foreign_keys = ON');
      db.exec(`
        CREATE TABLE parent (id INTEGER PRIMARY KEY);
        CREATE TABLE child (id INTEGER PRIMARY KEY,
          parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
      `);
      const queue = new GroupCommitQueue(db);
      // A deferred foreign key is checked at COMMIT only: the works succeed, the batch fails.
      const fine = queue.enqueue({ run: () => db.prepare('INSERT INTO parent (id) VALUES (1)').run() });
      const orphan = queue.enqueue({ run: () => db.prepare('INSERT INTO child (id, parent) VALUES (1, 99)').run() });
      const results = await Promise.allSettled([fine, orphan]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['rejected', 'rejected'],
      );
      assert.equal((db.prepare('SELECT count(*) AS n FROM parent').get() as { n: number }).n, 0);
      assert.equal(db.inTransaction, false);
      // The queue goes on with the next batch.
      await queue.enqueue({ run: () => db.prepare('INSERT INTO parent (id) VALUES (2)').run() });
      assert.equal((db.prepare('SELECT count(*) AS n FROM parent').get() as { n: number }).n, 1);
      await queue.close('closed');
      db.close();
    });
  });

  describe('the log in the job row (schema version 3)', () => {
    it('moves the logs of a version-2 file into their rows, in order, and drops the old table', () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const db = new Sqlite(file);
      try {
        migrate(db, migrations.slice(0, 2));
        const insertJob = db.prepare(
          "INSERT INTO jobs (root, id, type, status, priority, retry_until, after, created, updated, doc) VALUES ('queue', ?, 't', 'completed', 0, 0, 0, 0, 0, '{}')",
        );
        insertJob.run('with-log');
        insertJob.run('without-log');
        const insertEntry = db.prepare("INSERT INTO job_logs (root, job_id, entry) VALUES ('queue', ?, ?)");
        insertEntry.run('with-log', EJSON.stringify(makeLogEntry('first')));
        insertEntry.run('other-root-id', EJSON.stringify(makeLogEntry('elsewhere')));
        insertEntry.run('with-log', EJSON.stringify(makeLogEntry('second')));

        assert.deepEqual(migrate(db, migrations.slice(0, 3)), [3]);
        const logs = db.prepare('SELECT id, log FROM jobs ORDER BY id').all() as { id: string; log: string }[];
        assert.deepEqual(
          logs.map(({ id, log }) => [id, (EJSON.parse(`[${log}]`) as { message: string }[]).map((entry) => entry.message)]),
          [
            ['with-log', ['first', 'second']],
            ['without-log', []],
          ],
        );
        assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'job_logs'").get(), undefined);
      } finally {
        db.close();
      }
    });

  });

  describe('job search (schema version 4)', () => {
    it('indexes the words of the jobs a version-3 file already holds, in every root, skipping unreadable rows', async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const db = new Sqlite(file);
      try {
        migrate(db, migrations.slice(0, 3));
        const insertJob = db.prepare(
          "INSERT INTO jobs (root, id, type, status, priority, retry_until, after, created, updated, doc) VALUES (?, ?, 't', 'completed', 0, 0, 0, 0, 0, ?)",
        );
        insertJob.run('queue', 'old-1', encodeDoc(makeJob({ _id: 'old-1', data: { city: 'Lisbon' } })));
        insertJob.run('other', 'old-2', encodeDoc(makeJob({ _id: 'old-2', data: { city: 'Lisbon' } })));
        insertJob.run('queue', 'broken', 'not EJSON');
        assert.deepEqual(migrate(db), [4]);
      } finally {
        db.close();
      }
      const database = SqliteDatabase.open(file);
      const queue = new SqliteJobStore(database, 'queue', async () => {});
      const other = new SqliteJobStore(database, 'other', async () => {});
      try {
        assert.deepEqual((await queue.list({ text: 'lisbon' }, { limit: 5, order: 'updated-desc' })).map((job) => job._id), ['old-1']);
        assert.deepEqual((await other.list({ text: 'lisb' }, { limit: 5, order: 'updated-desc' })).map((job) => job._id), ['old-2']);
      } finally {
        await database.close();
      }
    });
  });

  describe('the log in the job row, continued', () => {
    it('writes an update with the log entries that follow it, and reads within the work see both', async () => {
      const { store, close } = await openOne();
      const first = makeJob({ status: 'ready' });
      const second = makeJob({ status: 'ready' });
      await store.transaction(async (tx) => {
        await tx.insert(first, []);
        await tx.insert(second, []);
      });
      const seen = await store.transaction(async (tx) => {
        await tx.update(first._id, { status: 'running', runId: 'r1' });
        await tx.appendLog(first._id, [makeLogEntry('running')]);
        // Another job's entry: the held update of the first is written before it.
        await tx.appendLog(second._id, [makeLogEntry('other')]);
        await tx.update(second._id, { status: 'cancelled' });
        await tx.appendLog(second._id, [makeLogEntry('cancelled')]);
        return (await tx.find({ ids: [first._id, second._id] })).map((job) => job.status);
      });
      assert.deepEqual(seen, ['running', 'cancelled']);
      const read = await store.getJobs([first._id, second._id], { log: true });
      assert.deepEqual(
        read.map((job) => [job.status, job.log?.map((entry) => entry.message)]),
        [
          ['running', ['running']],
          ['cancelled', ['other', 'cancelled']],
        ],
      );
      // A work that throws after its update keeps nothing of it.
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.update(first._id, { status: 'completed' });
          await tx.appendLog(first._id, [makeLogEntry('never')]);
          throw new Error('changed its mind');
        }),
        /changed its mind/,
      );
      const [after] = await store.getJobs([first._id], { log: true });
      assert.deepEqual([after?.status, after?.log?.map((entry) => entry.message)], ['running', ['running']]);
      await close();
    });

    it('keeps usual log entries as compact arrays and any other entry as it is, reading both back exactly', () => {
      const at = new Date(1_700_000_000_000);
      const entries = [
        { time: at, runId: null, level: 'info', message: 'Job Submitted' },
        { time: at, runId: 'run1', level: 'success', message: 'Job Completed' },
        { time: at, runId: 'run1', level: 'danger', message: 'Job Failed', data: { when: at, list: [1, { $odd: true }] } },
        // Not the usual shape: kept as objects, keys and all.
        { time: at, runId: null, level: 'info', message: 'extra', source: 'a Meteor app' },
        { message: 'reordered', time: at, runId: null, level: 'info' },
        { time: at, runId: null, level: 'verbose', message: 'unknown level' },
      ] as unknown as JobLogEntry[];
      const text = encodeLogItems(entries);
      assert.equal(EJSON.stringify(decodeLog(text)), EJSON.stringify(entries));
      assert.ok(decodeLog(text)[2]?.data?.when instanceof Date);
      const usual = entries.slice(0, 2);
      assert.ok(encodeLogItems(usual).length * 1.6 < usual.map((entry) => EJSON.stringify(entry)).join(',').length, 'usual entries take much less room');
    });

    it('appends to a log in place, whatever its characters, and reads it back in order', async () => {
      const { store, close } = await openOne();
      const job = makeJob();
      await store.transaction((tx) => tx.insert(job, [makeLogEntry('créé ☁️ "quoted" [x]')]));
      await store.transaction((tx) => tx.appendLog(job._id, [makeLogEntry('ünïcode 🌧'), makeLogEntry('third')]));
      await store.transaction((tx) => tx.appendLog(job._id, [makeLogEntry('fourth, {brace}')]));
      const [read] = await store.getJobs([job._id], { log: true });
      assert.deepEqual(
        read?.log?.map((entry) => entry.message),
        ['créé ☁️ "quoted" [x]', 'ünïcode 🌧', 'third', 'fourth, {brace}'],
      );
      assert.ok(read?.log?.every((entry) => entry.time instanceof Date));
      await close();
    });
  });

  describe('query plans', () => {
    let db: Sqlite.Database;

    before(() => {
      db = new Sqlite(':memory:');
      migrate(db);
    });

    after(() => {
      db.close();
    });

    const plan = (sql: string, ...params: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail);

    it('claims through the claim index, in its order, without a scan or a sort', () => {
      const steps = plan(nextReadySql, 'queue', 'type', 10);
      assert.equal(steps.length, 1, steps.join('\n'));
      assert.match(steps[0] ?? '', /^SEARCH jobs USING INDEX jobs_claim \(root=\? AND type=\?\)$/);
    });

    it('promotes, expires and finds dependents through their indexes', () => {
      const promote = plan(promotableSql, 'queue', 0, 500);
      assert.match(promote[0] ?? '', /SEARCH jobs USING INDEX jobs_promote \(root=\? AND after<\?\)/);
      assert.ok(!promote.some((step) => /SCAN|TEMP B-TREE/.test(step)), promote.join('\n'));
      const next = plan(nextPromotionSql, 'queue');
      assert.match(next[0] ?? '', /SEARCH jobs USING INDEX jobs_promote \(root=\?\)/);
      assert.ok(!next.some((step) => /SCAN|TEMP B-TREE/.test(step)), next.join('\n'));
      const expire = plan(expiredSql, 'queue', 0);
      assert.match(expire[0] ?? '', /SEARCH jobs USING INDEX jobs_expire/);
      assert.ok(!expire.some((step) => /SCAN|TEMP B-TREE/.test(step)), expire.join('\n'));
      const dependents = plan(dependentsSql, 'queue', 'id');
      assert.match(dependents.join('\n'), /SEARCH d USING COVERING INDEX job_depends_antecedent/);
      assert.ok(!dependents.some((step) => /SCAN/.test(step)), dependents.join('\n'));
    });

    it('counts by type and status from an index alone', () => {
      const steps = plan('SELECT type, status, count(*) AS n FROM jobs WHERE root = ? GROUP BY type, status', 'queue');
      assert.deepEqual(steps, ['SEARCH jobs USING COVERING INDEX jobs_status (root=?)']);
    });

    it('keeps finished jobs out of the claim, promotion and expiry indexes', () => {
      const partial = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE%status = %' ORDER BY name")
        .all() as { name: string }[];
      assert.deepEqual(
        partial.map((row) => row.name),
        ['jobs_children', 'jobs_claim', 'jobs_expire', 'jobs_promote'],
      );
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
