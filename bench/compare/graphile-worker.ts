/**
 * graphile-worker on the local PostgreSQL (durable: `synchronous_commit` on), as its
 * documentation shows it: `addJob`/`addJobs` through WorkerUtils, a runner with `concurrency`
 * (LISTEN/NOTIFY wakes it), completions from its `job:success` event. Batched mode is its
 * documented batching: `localQueue.size` 500 and `completeJobBatchDelay` 0. Version 0.17: 0.18
 * needs Node 22.
 */
import { EventEmitter } from 'node:events';
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from 'graphile-worker';
import { probeTcp } from './service-probe.ts';
import { CompletionCounter, type BenchJobData, type QueueSession, type QueueSystem, type RunningWorker, type WorkerOptions } from './queue-system.ts';

const connectionString = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = 'cumulus_bench_graphile';
const silent = new Logger(() => () => {});

export class GraphileWorkerSystem implements QueueSystem {
  readonly name = 'graphile-worker';
  readonly description = 'graphile-worker 0.17 on PostgreSQL 15 (durable commits)';
  readonly batches = true;
  #utils: Promise<WorkerUtils> | undefined;

  unavailable(): Promise<string | undefined> {
    return probeTcp('127.0.0.1', 5432, 'PostgreSQL');
  }

  async open(identifier: string): Promise<QueueSession> {
    this.#utils ??= (async () => {
      const utils = await makeWorkerUtils({ connectionString, schema, logger: silent });
      await utils.withPgClient((client) => client.query(`drop schema if exists ${schema} cascade`));
      await utils.migrate();
      return utils;
    })();
    return new GraphileSession(await this.#utils, identifier);
  }

  async shutdown(): Promise<void> {
    const utils = this.#utils;
    this.#utils = undefined;
    if (utils !== undefined) await (await utils).release();
  }
}

class GraphileSession implements QueueSession {
  readonly #utils: WorkerUtils;
  readonly #identifier: string;
  readonly #runners: Runner[] = [];

  constructor(utils: WorkerUtils, identifier: string) {
    this.#utils = utils;
    this.#identifier = identifier;
  }

  async enqueueOne(data: BenchJobData): Promise<void> {
    await this.#utils.addJob(this.#identifier, data);
  }

  async enqueueMany(from: number, count: number): Promise<void> {
    await this.#utils.addJobs(Array.from({ length: count }, (_, i) => ({ identifier: this.#identifier, payload: { n: from + i } })));
  }

  async startWorker(options: WorkerOptions): Promise<RunningWorker> {
    const completions = new CompletionCounter();
    const events = new EventEmitter();
    events.on('job:success', () => completions.hit());
    const runner = await run({
      connectionString,
      schema,
      logger: silent,
      concurrency: options.concurrency,
      maxPoolSize: options.concurrency + 2,
      noHandleSignals: true,
      events: events as never,
      taskList: {
        [this.#identifier]: async (payload) => {
          options.onStart?.((payload as BenchJobData).n);
        },
      },
      ...(options.batched ? { preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0 } } } : {}),
    });
    this.#runners.push(runner);
    return {
      completed: (count) => completions.reached(count),
      count: () => completions.count,
      stop: () => runner.stop(),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#runners.splice(0).map((runner) => runner.stop().catch(() => undefined)));
    // Jobs left by a run cut at the time limit would slow every later fetch (one jobs table).
    await this.#utils.withPgClient((client) =>
      client.query(`delete from ${schema}._private_jobs where task_id in (select id from ${schema}._private_tasks where identifier = $1)`, [this.#identifier]),
    );
  }
}
