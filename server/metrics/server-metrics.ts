/**
 * The server's Prometheus metrics, served at `/metrics` (prom-client's text format). Every
 * series is named `cumulus_…`: the jobs by collection, type and status (read from the store at
 * each scrape), completions, failures and retries, run times and waits before a start (from the
 * commit feed), workers, DDP method calls and their latency, connected sessions, the store's
 * group commits (latency and size), and the process's own (CPU, memory, event-loop lag) from
 * prom-client's default collectors.
 * Each server has a registry of its own, so several servers in one process do not mix.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobFeed } from '../feed/job-feed.ts';
import { RunTracker } from '../analytics/run-events.ts';
import type { JobStore } from '../store/job-store.ts';

/** Seconds: from a fraction of a millisecond (a claim) to tens of seconds (a long wait). */
const latencyBuckets = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #roots = new Map<string, { store: JobStore; workers: () => number }>();
  readonly #methodCalls: Counter<'method' | 'outcome'>;
  readonly #methodSeconds: Histogram<'method'>;
  readonly #commitSeconds: Histogram;
  readonly #batchWorks: Histogram;
  readonly #completed: Counter<'collection' | 'type'>;
  readonly #failed: Counter<'collection' | 'type'>;
  readonly #retried: Counter<'collection' | 'type'>;
  readonly #runSeconds: Histogram<'collection' | 'type' | 'outcome'>;
  readonly #waitSeconds: Histogram<'collection' | 'type'>;

  /** @param sessions How many DDP connections are open now. */
  constructor(sessions: () => number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'cumulus_' });
    const roots = this.#roots;
    new Gauge({
      name: 'cumulus_jobs',
      help: 'Jobs in the store by collection, type and status',
      labelNames: ['collection', 'type', 'status'] as const,
      registers,
      async collect() {
        this.reset();
        for (const [collection, { store }] of roots) {
          for (const [type, byStatus] of Object.entries(await store.counts())) {
            for (const [status, count] of Object.entries(byStatus)) this.set({ collection, type, status }, count ?? 0);
          }
        }
      },
    });
    new Gauge({
      name: 'cumulus_workers',
      help: 'Connected connections that have asked for work, by collection',
      labelNames: ['collection'] as const,
      registers,
      collect() {
        this.reset();
        for (const [collection, { workers }] of roots) this.set({ collection }, workers());
      },
    });
    new Gauge({
      name: 'cumulus_ddp_sessions',
      help: 'Open DDP connections',
      registers,
      collect() {
        this.set(sessions());
      },
    });
    this.#completed = new Counter({ name: 'cumulus_jobs_completed_total', help: 'Jobs completed', labelNames: ['collection', 'type'] as const, registers });
    this.#failed = new Counter({ name: 'cumulus_jobs_failed_total', help: 'Jobs failed for good (no retry left, or fatal)', labelNames: ['collection', 'type'] as const, registers });
    this.#retried = new Counter({ name: 'cumulus_jobs_retried_total', help: 'Runs that failed and wait for a retry', labelNames: ['collection', 'type'] as const, registers });
    this.#runSeconds = new Histogram({
      name: 'cumulus_job_run_seconds',
      help: 'Time from a claim to the run\'s end, by outcome (completed, or failed: for good or to be retried)',
      labelNames: ['collection', 'type', 'outcome'] as const,
      buckets: latencyBuckets,
      registers,
    });
    this.#waitSeconds = new Histogram({
      name: 'cumulus_job_wait_seconds',
      help: 'Time from when a job was due (its `after`) to its claim',
      labelNames: ['collection', 'type'] as const,
      buckets: latencyBuckets,
      registers,
    });
    this.#methodCalls = new Counter({
      name: 'cumulus_ddp_method_calls_total',
      help: 'DDP method calls by method and outcome (ok or error)',
      labelNames: ['method', 'outcome'] as const,
      registers,
    });
    this.#methodSeconds = new Histogram({
      name: 'cumulus_ddp_method_seconds',
      help: 'Time from a method call to its answer, by method (a waiting getWork included)',
      labelNames: ['method'] as const,
      buckets: latencyBuckets,
      registers,
    });
    this.#commitSeconds = new Histogram({
      name: 'cumulus_store_commit_seconds',
      help: 'Time of a group commit, from its first statement until it is durable',
      buckets: latencyBuckets,
      registers,
    });
    this.#batchWorks = new Histogram({
      name: 'cumulus_store_batch_transactions',
      help: 'Transactions sharing one group commit',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    });
  }

  /**
   * Counts the jobs of `collection` at each scrape, and its outcomes, run times and waits as
   * they are committed. `workers` tells how many connections have asked it for work.
   */
  watchCollection(collection: string, store: JobStore, feed: JobFeed, workers: () => number): () => void {
    this.#roots.set(collection, { store, workers });
    const runs = new RunTracker();
    const unsubscribe = feed.subscribe('metrics', (changes) => {
      for (const event of runs.events(changes)) {
        const labels = { collection, type: event.type };
        if (event.kind === 'started') {
          this.#waitSeconds.observe(labels, event.waitMs / 1000);
          continue;
        }
        const counter = event.kind === 'completed' ? this.#completed : event.kind === 'failed' ? this.#failed : this.#retried;
        counter.inc(labels);
        if (event.runMs !== undefined) this.#runSeconds.observe({ ...labels, outcome: event.kind === 'completed' ? 'completed' : 'failed' }, event.runMs / 1000);
      }
    });
    return () => {
      unsubscribe();
      this.#roots.delete(collection);
    };
  }

  methodDone(method: string, seconds: number, outcome: 'ok' | 'error'): void {
    this.#methodCalls.inc({ method, outcome });
    this.#methodSeconds.observe({ method }, seconds);
  }

  batchCommitted(transactions: number, seconds: number): void {
    this.#commitSeconds.observe(seconds);
    this.#batchWorks.observe(transactions);
  }

  /** The exposition text, and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
