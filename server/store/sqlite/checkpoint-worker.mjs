// The SQLite checkpoints of one database file, on a thread of their own: copying the
// write-ahead log into the database, and the fsyncs of both that go with it, never stop the
// server's event loop. Plain JavaScript because worker threads do not inherit the TypeScript
// loader the server runs under. Messages: 'checkpoint' (answered with the outcome) and 'close'.
import { parentPort, workerData } from 'node:worker_threads';
import Sqlite from 'better-sqlite3';

const db = new Sqlite(workerData.path, { fileMustExist: true, timeout: workerData.busyTimeoutMs });
// A checkpoint syncs the log before it copies it and the database before it lets the log be
// reused: that is what makes dropping the writer's own syncs at checkpoints safe.
db.pragma('synchronous = FULL');

parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    // PASSIVE never waits for the writer or the readers; what it cannot copy now, the next does.
    const [outcome] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, ...outcome });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
  }
});
