/**
 * What the side-by-side benchmark needs of a job queue: enqueue one job or many, run a no-op
 * worker, and tell when jobs have completed. One adapter per system (Cumulus, BullMQ,
 * graphile-worker, pg-boss), each written the way that system's documentation recommends.
 */

/** The job data every system carries: the job's number in its run. */
export interface BenchJobData {
  n: number;
}

export interface WorkerOptions {
  concurrency: number;
  /** The system's batched mode (fetch and complete many jobs per round trip), if it has one. */
  batched: boolean;
  /** Called when a job's handler starts, with the job's number. */
  onStart?(n: number): void;
}

export interface RunningWorker {
  /** Resolves once `count` jobs have completed (recorded as completed by the system). */
  completed(count: number): Promise<void>;
  /** How many have completed so far. */
  count(): number;
  stop(): Promise<void>;
}

/** One fresh queue of a system, with the connections to use it. */
export interface QueueSession {
  /** Enqueues one job and resolves once the system has acknowledged it. */
  enqueueOne(data: BenchJobData): Promise<void>;
  /** Enqueues jobs numbered `from`… in one call. */
  enqueueMany(from: number, count: number): Promise<void>;
  /** Starts a worker and resolves once it is ready to take jobs. */
  startWorker(options: WorkerOptions): Promise<RunningWorker>;
  close(): Promise<void>;
}

export interface QueueSystem {
  readonly name: string;
  /** What runs: the package version and its store, for the table's caption. */
  readonly description: string;
  /** Whether `batched: true` means anything for this system. */
  readonly batches: boolean;
  /** Why it cannot run here (its service is not reachable), or undefined. */
  unavailable(): Promise<string | undefined>;
  /** A new, empty queue. */
  open(queue: string): Promise<QueueSession>;
  /** Releases what `open` started for every session (servers, pools). */
  shutdown(): Promise<void>;
}

/** Counts completions and resolves waits for a number of them. */
export class CompletionCounter {
  #count = 0;
  readonly #waits: Array<{ target: number; resolve(): void }> = [];

  hit(times = 1): void {
    this.#count += times;
    for (let i = this.#waits.length - 1; i >= 0; i -= 1) {
      const wait = this.#waits[i] as { target: number; resolve(): void };
      if (this.#count >= wait.target) {
        this.#waits.splice(i, 1);
        wait.resolve();
      }
    }
  }

  get count(): number {
    return this.#count;
  }

  reached(target: number): Promise<void> {
    if (this.#count >= target) return Promise.resolve();
    return new Promise((resolve) => this.#waits.push({ target, resolve }));
  }
}
