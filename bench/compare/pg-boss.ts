/**
 * pg-boss on the local PostgreSQL (durable commits), as its documentation shows it: `send`,
 * `insert` for many, `work` with a polling interval (its shortest, 0.5 s: it has no
 * LISTEN/NOTIFY wake-up). Version 10 has no concurrency option: concurrency N is N `work`
 * loops. Batched mode is `batchSize` 100 per fetch. A job counts as completed when its
 * handler's batch has returned (pg-boss completes the batch right after). Version 10: 11 and
 * later need Node 22.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import { probeTcp } from './service-probe.ts';
import { CompletionCounter, type BenchJobData, type QueueSession, type QueueSystem, type RunningWorker, type WorkerOptions } from './queue-system.ts';

const connectionString = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = 'cumulus_bench_pgboss';

export class PgBossSystem implements QueueSystem {
  readonly name = 'pg-boss';
  readonly description = 'pg-boss 10 on PostgreSQL 15 (durable commits, 0.5 s polling)';
  readonly batches = true;
  #boss: Promise<PgBoss> | undefined;

  unavailable(): Promise<string | undefined> {
    return probeTcp('127.0.0.1', 5432, 'PostgreSQL');
  }

  async open(name: string): Promise<QueueSession> {
    this.#boss ??= (async () => {
      // A schema of its own, emptied: queues of earlier runs would weigh on this one.
      const client = new pg.Client({ connectionString });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
      const boss = new PgBoss({ connectionString, schema, max: 60 });
      boss.on('error', (error) => console.error('pg-boss:', error));
      await boss.start();
      return boss;
    })();
    const boss = await this.#boss;
    await boss.createQueue(name);
    return new PgBossSession(boss, name);
  }

  async shutdown(): Promise<void> {
    const boss = this.#boss;
    this.#boss = undefined;
    if (boss !== undefined) await (await boss).stop({ graceful: false, wait: true });
  }
}

class PgBossSession implements QueueSession {
  readonly #boss: PgBoss;
  readonly #name: string;

  constructor(boss: PgBoss, name: string) {
    this.#boss = boss;
    this.#name = name;
  }

  async enqueueOne(data: BenchJobData): Promise<void> {
    await this.#boss.send(this.#name, data);
  }

  async enqueueMany(from: number, count: number): Promise<void> {
    await this.#boss.insert(Array.from({ length: count }, (_, i) => ({ name: this.#name, data: { n: from + i } })));
  }

  async startWorker(options: WorkerOptions): Promise<RunningWorker> {
    const completions = new CompletionCounter();
    const work = { batchSize: options.batched ? 100 : 1, pollingIntervalSeconds: 0.5 };
    for (let loop = 0; loop < options.concurrency; loop += 1) {
      await this.#boss.work<BenchJobData>(this.#name, work, async (jobs) => {
        for (const job of jobs) options.onStart?.(job.data.n);
        // The batch is completed when this returns; counted just after, as pg-boss does it.
        setImmediate(() => completions.hit(jobs.length));
      });
    }
    return {
      completed: (count) => completions.reached(count),
      count: () => completions.count,
      stop: () => this.#boss.offWork(this.#name),
    };
  }

  async close(): Promise<void> {
    await this.#boss.offWork(this.#name);
    // Jobs left by a run cut at the time limit stay out of later runs' way.
    await this.#boss.purgeQueue(this.#name);
  }
}
