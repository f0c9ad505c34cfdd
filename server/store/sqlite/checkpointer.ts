/**
 * Keeps the write-ahead log of a SQLite file short without stopping the event loop. The
 * writer's own checkpoints are off (`wal_autocheckpoint = 0`); instead, after commits, a
 * checkpoint runs on a worker thread with its own connection, at most one at a time and at
 * most one every `intervalMs`. If the worker thread cannot run, checkpoints fall back to the
 * writer connection, between batches, as SQLite would do them itself.
 *
 * SQLite starts the log over only when a checkpoint has copied all of it; one running beside a
 * busy writer never quite does, and the log would grow for as long as the writes go on. So
 * when a checkpoint leaves more than `restartFrames` frames in the log, the writer itself
 * copies the few frames written meanwhile, between two batches, and its next commit starts the
 * log over.
 */
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

export interface CheckpointerOptions {
  path: string;
  busyTimeoutMs: number;
  /** The shortest time between the end of one checkpoint and the start of the next. */
  intervalMs: number;
  /** How long (in frames, i.e. pages) the log may grow before the writer catches up. */
  restartFrames: number;
  /** The writer connection, for the fallback; it checkpoints only outside a transaction. */
  writer: Database;
  /** Told of a checkpoint that failed, or of the worker thread's loss. */
  onError(error: Error): void;
  /** The worker thread's script; tests point it elsewhere to exercise the fallback. */
  script?: URL;
}

const workerScript = new URL('./checkpoint-worker.mjs', import.meta.url);

interface Outcome {
  ok: boolean;
  message?: string;
  /** Frames in the log when the checkpoint ended. */
  log?: number;
}

export class Checkpointer {
  readonly #options: CheckpointerOptions;
  #worker: Worker | undefined;
  /** The worker thread failed: checkpoints run on the writer instead. */
  #inThread = false;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #dirty = false;
  // The first checkpoint too waits `intervalMs`, from the start.
  #lastEnd = Date.now();
  #closed = false;
  #count = 0;
  #catchUps = 0;
  #idleWaiters: (() => void)[] = [];
  /** The answer the worker thread owes. */
  #inFlight: { resolve(outcome: Outcome): void; reject(error: Error): void } | undefined;

  constructor(options: CheckpointerOptions) {
    this.#options = options;
  }

  /** How many checkpoints have finished: for tests and measurements. */
  get checkpoints(): number {
    return this.#count;
  }

  /** New commits are in the log: a checkpoint will follow. */
  noteCommit(): void {
    this.#dirty = true;
    this.#schedule();
  }

  /** How many times the writer caught up with a log that had grown too long: for tests and measurements. */
  get catchUps(): number {
    return this.#catchUps;
  }

  /** Resolves once no checkpoint is due or running: every commit noted so far has been checkpointed. */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#running === undefined && this.#timer === undefined && (!this.#dirty || this.#closed);
  }

  /** Waits for a checkpoint in progress, then stops the worker thread. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    for (const wake of this.#idleWaiters.splice(0)) wake();
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('close');
      await exited;
    }
  }

  #schedule(): void {
    if (this.#closed || !this.#dirty || this.#running !== undefined || this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastEnd + this.#options.intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#dirty = false;
      const running = this.#checkpoint().then(
        () => {
          this.#count += 1;
        },
        (error: unknown) => this.#options.onError(error instanceof Error ? error : new Error(String(error))),
      );
      this.#running = running.finally(() => {
        this.#running = undefined;
        this.#lastEnd = Date.now();
        this.#schedule();
        if (this.#isIdle()) {
          const waiters = this.#idleWaiters;
          this.#idleWaiters = [];
          for (const wake of waiters) wake();
        }
      });
    }, wait);
  }

  async #checkpoint(): Promise<void> {
    if (this.#inThread) {
      // Between batches only: a checkpoint inside the writer's transaction would fail.
      if (this.#options.writer.inTransaction) {
        this.#dirty = true;
        return;
      }
      this.#options.writer.pragma('wal_checkpoint(PASSIVE)');
      return;
    }
    const worker = this.#startedWorker();
    const outcome = await new Promise<Outcome>((resolve, reject) => {
      this.#inFlight = { resolve, reject };
      worker.postMessage('checkpoint');
    });
    if (!outcome.ok) throw new Error(`checkpoint failed: ${outcome.message ?? 'unknown error'}`);
    // Between batches (a worker's message is a task of its own), never inside one.
    if ((outcome.log ?? 0) > this.#options.restartFrames && !this.#options.writer.inTransaction) {
      this.#options.writer.pragma('wal_checkpoint(PASSIVE)');
      this.#catchUps += 1;
    }
  }

  #startedWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(this.#options.script ?? workerScript, {
      // Not the server's own flags: a loader for TypeScript or a preloaded test helper would
      // fail in a plain-JavaScript thread.
      execArgv: [],
      workerData: { path: this.#options.path, busyTimeoutMs: this.#options.busyTimeoutMs },
    });
    worker.on('message', (outcome: Outcome) => {
      const inFlight = this.#inFlight;
      this.#inFlight = undefined;
      inFlight?.resolve(outcome);
    });
    worker.on('error', (error) => {
      // Lost for good (it could not load, or crashed): checkpoint on the writer from now on.
      this.#worker = undefined;
      this.#inThread = true;
      this.#dirty = true;
      const lost = new Error(`the checkpoint thread stopped (${error.message}); checkpoints now run on the main thread`, { cause: error });
      const inFlight = this.#inFlight;
      this.#inFlight = undefined;
      if (inFlight !== undefined) inFlight.reject(lost);
      else this.#options.onError(lost);
    });
    this.#worker = worker;
    return worker;
  }
}
