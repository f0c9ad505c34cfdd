/**
 * BullMQ on the local Redis, as its documentation shows it: a `Queue` to add jobs (`add`,
 * `addBulk`), a `Worker` with `concurrency`, completions from the worker's `completed` event
 * (emitted once Redis has recorded the job as completed). It has no batched mode outside
 * BullMQ Pro. Redis on these machines keeps nothing on disk, so its writes are not durable.
 */
import { Queue, Worker } from 'bullmq';
import { probeTcp } from './service-probe.ts';
import { CompletionCounter, type BenchJobData, type QueueSession, type QueueSystem, type RunningWorker, type WorkerOptions } from './queue-system.ts';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

export class BullMqSystem implements QueueSystem {
  readonly name = 'BullMQ';
  readonly description = 'BullMQ 6.7 on Redis 7 (in memory, no persistence)';
  readonly batches = false;

  unavailable(): Promise<string | undefined> {
    return probeTcp(connection.host, connection.port, 'Redis');
  }

  async open(name: string): Promise<QueueSession> {
    const queue = new Queue<BenchJobData>(name, { connection });
    await queue.waitUntilReady();
    return new BullMqSession(queue, name);
  }

  async shutdown(): Promise<void> {}
}

class BullMqSession implements QueueSession {
  readonly #queue: Queue<BenchJobData>;
  readonly #name: string;
  readonly #workers: Worker[] = [];

  constructor(queue: Queue<BenchJobData>, name: string) {
    this.#queue = queue;
    this.#name = name;
  }

  async enqueueOne(data: BenchJobData): Promise<void> {
    await this.#queue.add('job', data);
  }

  async enqueueMany(from: number, count: number): Promise<void> {
    await this.#queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'job', data: { n: from + i } })));
  }

  async startWorker(options: WorkerOptions): Promise<RunningWorker> {
    const completions = new CompletionCounter();
    const worker = new Worker<BenchJobData>(
      this.#name,
      async (job) => {
        options.onStart?.(job.data.n);
      },
      { connection, concurrency: options.concurrency },
    );
    this.#workers.push(worker);
    worker.on('completed', () => completions.hit());
    await worker.waitUntilReady();
    return {
      completed: (count) => completions.reached(count),
      count: () => completions.count,
      stop: () => worker.close(),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.close()));
    await this.#queue.obliterate({ force: true });
    await this.#queue.close();
  }
}
