/**
 * What the workers of a collection root told about themselves when they asked for work
 * (docs/PROTOCOL.md §7.11): a name, their concurrency, their machine's load. Work goes to the
 * least-loaded worker: its load is the share of its slots in use (the server's own count of
 * the jobs it runs, over its concurrency) plus its machine's one-minute load per CPU. A client
 * that reports nothing (meteor-job) counts as one slot on an idle machine.
 */
import type { JobWorkerInfo } from '../../shared/job-doc.ts';

export interface WorkerReport {
  name?: string | undefined;
  concurrency?: number | undefined;
  cpuLoad?: number | undefined;
}

export interface KnownWorker {
  name: string | undefined;
  concurrency: number;
  cpuLoad: number;
  types: readonly string[];
  /** When it first asked for work. */
  since: Date;
}

export class WorkerRegistry {
  readonly #workers = new Map<string, KnownWorker>();

  /** How many connected connections have asked for work. */
  get size(): number {
    return this.#workers.size;
  }

  /** Every connection that asked for work, with what it reported. */
  list(): ({ connectionId: string } & KnownWorker)[] {
    return [...this.#workers].map(([connectionId, known]) => ({ connectionId, ...known }));
  }

  /** Records what a connection's getWork reported, for the types it asked. */
  reported(connectionId: string, report: WorkerReport | undefined, types: readonly string[], now: Date): void {
    const known = this.#workers.get(connectionId);
    this.#workers.set(connectionId, {
      name: report?.name ?? known?.name,
      concurrency: report?.concurrency ?? known?.concurrency ?? 1,
      cpuLoad: report?.cpuLoad ?? known?.cpuLoad ?? 0,
      types,
      since: known?.since ?? now,
    });
  }

  /** The load to compare workers by: the share of slots in use plus the machine's load per CPU. */
  load(connectionId: string | null, running: number): number {
    if (connectionId === null) return running;
    const known = this.#workers.get(connectionId);
    return running / (known?.concurrency ?? 1) + (known?.cpuLoad ?? 0);
  }

  /** Who runs a job claimed by the connection, as the job records it. */
  workerInfo(connectionId: string): JobWorkerInfo {
    return { name: this.#workers.get(connectionId)?.name ?? connectionId, connection: connectionId };
  }

  connectionClosed(connectionId: string): void {
    this.#workers.delete(connectionId);
  }
}
