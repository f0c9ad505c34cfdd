/**
 * The SQLite schema, as an ordered list of migrations. The database remembers the last one it
 * ran in `PRAGMA user_version`, so opening a file runs only the newer ones. A migration is never
 * edited once released: a change to the schema is a new entry at the end of the list.
 */
import type { Database } from 'better-sqlite3';
import { searchWords } from '../search-words.ts';
import { decodeDoc } from './row-codec.ts';

export interface Migration {
  /** 1, 2, 3…: the `user_version` the database has once this migration ran. */
  version: number;
  description: string;
  sql: string;
  /** What SQL cannot do, run after `sql` in the same transaction (filling a new index from the documents). */
  run?: (db: Database) => void;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'jobs, their logs and their pending dependencies',
    // Every table carries `root` so the collections of one server share one file (one writer,
    // one group commit). `doc` is the whole job as EJSON text, the only source of truth; the
    // other columns are copies of its fields that the queries filter and sort on.
    // `seq` is the rowid, hence insertion order, the claim order's last tie-breaker.
    sql: `
      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        root TEXT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        priority INTEGER NOT NULL,
        retry_until INTEGER NOT NULL,
        after INTEGER NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        run_id TEXT,
        expires_after INTEGER,
        doc TEXT NOT NULL
      );
      CREATE UNIQUE INDEX jobs_id ON jobs (root, id);
      CREATE INDEX jobs_claim ON jobs (root, status, type, priority, retry_until, after, created, seq);
      CREATE INDEX jobs_promote ON jobs (root, status, after);
      CREATE INDEX jobs_expire ON jobs (root, status, expires_after);
      CREATE INDEX jobs_updated ON jobs (root, updated);
      CREATE INDEX jobs_created ON jobs (root, created);

      CREATE TABLE job_logs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        root TEXT NOT NULL,
        job_id TEXT NOT NULL,
        entry TEXT NOT NULL
      );
      CREATE INDEX job_logs_job ON job_logs (root, job_id, seq);

      -- One row per id in a job's \`depends\`: "pending" is exactly "has a row as dependent".
      CREATE TABLE job_depends (
        root TEXT NOT NULL,
        dependent TEXT NOT NULL,
        antecedent TEXT NOT NULL,
        PRIMARY KEY (root, dependent, antecedent)
      ) WITHOUT ROWID;
      CREATE INDEX job_depends_antecedent ON job_depends (root, antecedent, dependent);
    `,
  },
  {
    version: 2,
    description: 'chains of jobs, and the parent of a job (docs/PROTOCOL.md §7.9)',
    // A chain's links are written once (`links`); `doc` is the rest of the chain, rewritten as
    // it advances, so a long chain is not encoded again whole at every link. Status and parent
    // are copies for the queries. A job's parent is a copy of its document's, for claiming
    // the children of the jobs a worker waits in (getWork's `parents`).
    sql: `
      CREATE TABLE chains (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        root TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        parent TEXT,
        links TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE UNIQUE INDEX chains_id ON chains (root, id);
      CREATE INDEX chains_parent ON chains (root, parent, status) WHERE parent IS NOT NULL;

      ALTER TABLE jobs ADD COLUMN parent TEXT;
      CREATE INDEX jobs_children ON jobs (root, parent, status, priority, retry_until, after, created, seq)
        WHERE parent IS NOT NULL;
    `,
  },
  {
    version: 3,
    description: 'lighter rows: the log inside the job row, indexes over the jobs they serve only',
    // Each state change appended a row to job_logs and an entry to its index keyed by a random
    // job id: two more B-trees written per step. The log is now in the job's own row (which
    // the step rewrites anyway, in the same UPDATE), read only when asked for: its entries as
    // EJSON texts joined by commas, a JSON array once bracketed, so that an append is a
    // concatenation. The claim, promotion and
    // expiry indexes now hold only ready, waiting and running jobs: finished jobs (most of a
    // big table) cost them nothing, and a job that leaves a status leaves their entries.
    // `jobs_status` keeps counting by type and status an index-only scan.
    sql: `
      ALTER TABLE jobs ADD COLUMN log TEXT NOT NULL DEFAULT '';
      UPDATE jobs SET log = COALESCE(
        (SELECT group_concat(entry, ',' ORDER BY seq) FROM job_logs l
          WHERE l.root = jobs.root AND l.job_id = jobs.id),
        '');
      DROP TABLE job_logs;

      DROP INDEX jobs_claim;
      CREATE INDEX jobs_claim ON jobs (root, type, priority, retry_until, after, created, seq) WHERE status = 'ready';
      DROP INDEX jobs_promote;
      CREATE INDEX jobs_promote ON jobs (root, after, seq) WHERE status = 'waiting';
      DROP INDEX jobs_expire;
      CREATE INDEX jobs_expire ON jobs (root, expires_after, seq) WHERE status = 'running';
      DROP INDEX jobs_children;
      CREATE INDEX jobs_children ON jobs (root, parent, priority, retry_until, after, created, seq)
        WHERE parent IS NOT NULL AND status = 'ready';
      CREATE INDEX jobs_status ON jobs (root, type, status);
    `,
  },
  {
    version: 4,
    description: 'job search and analytics (docs/PROTOCOL.md §7.17, §7.18), the list by priority',
    // `job_text` holds each job's search words (server/store/search-words.ts) under the job
    // row's seq. Contentless: the words are not stored twice, only indexed; `contentless_delete`
    // lets a job's entry be replaced or removed by rowid. The words are computed in TypeScript
    // (the same code the MongoDB store uses), hence `run` fills it for the jobs already there.
    sql: `
      CREATE VIRTUAL TABLE job_text USING fts5(words, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
      CREATE INDEX jobs_priority ON jobs (root, priority, created);

      -- One row per root, resolution, period start and type; counts is AnalyticsCounts as JSON.
      CREATE TABLE job_analytics (
        root TEXT NOT NULL,
        resolution TEXT NOT NULL,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        counts TEXT NOT NULL,
        PRIMARY KEY (root, resolution, at, type)
      ) WITHOUT ROWID;
    `,
    run: (db) => {
      const insert = db.prepare('INSERT INTO job_text (rowid, words) VALUES (?, ?)');
      // Page by page: the connection cannot write while a statement still iterates.
      const page = db.prepare('SELECT seq, doc FROM jobs WHERE seq > ? ORDER BY seq LIMIT 1000');
      for (let last = 0; ; ) {
        const rows = page.all(last) as { seq: number; doc: string }[];
        if (rows.length === 0) break;
        for (const row of rows) {
          let words: string[];
          try {
            words = searchWords(decodeDoc(row.doc));
          } catch {
            // A row that does not decode cannot be served either; it must not stop the upgrade.
            continue;
          }
          if (words.length > 0) insert.run(row.seq, words.join(' '));
        }
        last = rows.at(-1)?.seq ?? last;
      }
    },
  },
];

/** The schema version this code writes; a file with a higher one came from a newer Cumulus. */
export const latestSchemaVersion = migrations.at(-1)?.version ?? 0;

/** Thrown when a database file was written by a newer Cumulus than this one. */
export class SchemaTooNewError extends Error {
  constructor(found: number) {
    super(
      `its schema version is ${found}, but this Cumulus knows versions up to ${latestSchemaVersion}; ` +
        'it was written by a newer Cumulus, upgrade this one to use it',
    );
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Brings the schema up to date in one transaction, so a crash leaves the file either before or
 * after the whole upgrade. Returns the versions it applied (empty when already current).
 */
export function migrate(db: Database, list: readonly Migration[] = migrations): number[] {
  const current = () => db.pragma('user_version', { simple: true }) as number;
  const latest = list.at(-1)?.version ?? 0;
  if (current() > latest) throw new SchemaTooNewError(current());
  if (current() === latest) return [];
  const applied: number[] = [];
  db.exec('BEGIN IMMEDIATE');
  try {
    // Read again under the write lock: another process may have migrated since the first look.
    const from = current();
    for (const migration of list) {
      if (migration.version <= from) continue;
      db.exec(migration.sql);
      migration.run?.(db);
      // PRAGMA takes no bound parameters; the version is a number from this file.
      db.pragma(`user_version = ${migration.version}`);
      applied.push(migration.version);
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
  return applied;
}
