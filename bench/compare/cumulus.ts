/**
 * Cumulus as users run it: the server in its own process on a durable SQLite file (every
 * acknowledged write is on disk), the worker library over DDP. Batched mode is the queue's
 * `payload` (10 jobs per handler call) with `prefetch` 500.
 */
import { connect, Job, type CumulusConnection, type JobQueue } from '../../worker/index.ts';
import { startServerProcess, type ServerProcess } from '../server-process.ts';
import { CompletionCounter, type BenchJobData, type QueueSession, type QueueSystem, type RunningWorker, type WorkerOptions } from './queue-system.ts';

const root = 'queue';

export class CumulusSystem implements QueueSystem {
  readonly name = 'Cumulus';
  readonly description = 'Cumulus server process, SQLite (WAL, synchronous=FULL), worker library';
  readonly batches = true;
  #server: Promise<ServerProcess> | undefined;

  async unavailable(): Promise<string | undefined> {
    return undefined;
  }

  async open(queue: string): Promise<QueueSession> {
    this.#server ??= startServerProcess();
    const server = await this.#server;
    const options = { setAsDefault: false, heartbeatMs: 0 };
    const producer = await connect(server.wsUrl, options);
    const workerConnection = await connect(server.wsUrl, options);
    return new CumulusSession(producer, workerConnection, queue);
  }

  async shutdown(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await (await server).stop();
  }
}

class CumulusSession implements QueueSession {
  readonly #producer: CumulusConnection;
  readonly #worker: CumulusConnection;
  readonly #type: string;

  constructor(producer: CumulusConnection, worker: CumulusConnection, type: string) {
    this.#producer = producer;
    this.#worker = worker;
    this.#type = type;
  }

  async enqueueOne(data: BenchJobData): Promise<void> {
    await new Job({ root, connection: this.#producer }, this.#type, { ...data }).save();
  }

  async enqueueMany(from: number, count: number): Promise<void> {
    const at = { root, connection: this.#producer };
    await Job.saveMany(at, Array.from({ length: count }, (_, i) => new Job(at, this.#type, { n: from + i })));
  }

  async startWorker(options: WorkerOptions): Promise<RunningWorker> {
    const completions = new CompletionCounter();
    const settings = { concurrency: options.concurrency, pollInterval: false as const };
    const at = { root, connection: this.#worker };
    let queue: JobQueue;
    if (options.batched) {
      queue = Job.processJobs(at, this.#type, { ...settings, payload: 10, prefetch: 500 }, async (jobs) => {
        for (const job of jobs) options.onStart?.(job.data.n as number);
      });
    } else {
      queue = Job.processJobs(at, this.#type, settings, async (job) => {
        options.onStart?.(job.data.n as number);
      });
    }
    queue.on('completed', () => completions.hit());
    return {
      completed: (count) => completions.reached(count),
      count: () => completions.count,
      stop: () => queue.shutdown({ level: 'soft' }),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.#producer.close(), this.#worker.close()]);
  }
}
