/**
 * Requeues the running jobs of servers that are gone. Every claim names the server run that
 * made it (`_private.server`); a server whose lease lapsed — a previous run of this one, or
 * another server on a shared database that died — can no longer finish its jobs. Once such a
 * server has been seen gone for the requeue grace (time for its workers to reconnect elsewhere
 * and take their runs back with `reclaimRuns`), its running jobs are put back in the queue, as
 * a lost connection's are. Claims made before servers had ids count as a gone server's.
 *
 * Only the leader of the root sweeps (the same leadership as the promotion loop), so two
 * servers never requeue the same jobs, and a live server's claims are never touched.
 */
import type { Logger } from '../logger.ts';
import type { Leadership, ServerLeases } from '../store/server-leases.ts';
import type { JobClaim } from '../store/job-store.ts';

export interface OrphanSweepDeps {
  leases: ServerLeases;
  leadership: Leadership;
  /** How long a server must have been seen gone before its jobs are requeued (ms). */
  graceMs: number;
  /** Requeues the running jobs whose claim `isLost`; answers how many. */
  requeue: (isLost: (claim: JobClaim) => boolean) => Promise<number>;
  logger: Logger;
}

/** A claim made before servers had ids. */
const unnamedServer = '';

export class OrphanSweep {
  readonly #deps: OrphanSweepDeps;
  /** When each gone server was first seen gone, on this process' monotonic clock. */
  readonly #goneSince = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  /** The sweep due when the first server seen gone has been gone for the grace. */
  #dueTimer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: OrphanSweepDeps) {
    this.#deps = deps;
  }

  /** Sweeps now (noting the gone servers), then every grace (at least every second). */
  start(): void {
    this.#timer = setInterval(() => this.sweep(), Math.max(this.#deps.graceMs, 1000));
    this.#timer.unref();
    this.sweep();
  }

  /** Runs a sweep unless one is running; never rejects. */
  sweep(): void {
    if (this.#stopped || this.#running !== undefined || !this.#deps.leadership.held) return;
    this.#running = this.#sweep()
      .catch((error: unknown) => this.#deps.logger.error({ err: error }, 'sweeping the claims of gone servers failed'))
      .finally(() => {
        this.#running = undefined;
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#dueTimer);
    await this.#running;
  }

  async #sweep(): Promise<void> {
    const live = await this.#deps.leases.liveServers();
    const now = performance.now();
    const seenGone = new Set<string>();
    const requeued = await this.#deps.requeue((claim) => {
      const server = claim.server ?? unnamedServer;
      if (live.has(server)) return false;
      seenGone.add(server);
      const since = this.#goneSince.get(server) ?? now;
      this.#goneSince.set(server, since);
      return now - since >= this.#deps.graceMs;
    });
    // A server with nothing left running needs no clock.
    for (const server of this.#goneSince.keys()) if (!seenGone.has(server)) this.#goneSince.delete(server);
    if (requeued > 0) this.#deps.logger.warn({ requeued }, 'requeued the running jobs of servers that are gone');
    // Alone on its database (SQLite), only a previous run's claims can be a gone server's: once
    // none is left, sweeping again would only scan the running jobs for nothing.
    if (!this.#deps.leases.shared && this.#goneSince.size === 0) clearInterval(this.#timer);
    this.#armForNextDue();
  }

  /** Sweeps again right when a server seen gone has been gone for the grace, not a period later. */
  #armForNextDue(): void {
    clearTimeout(this.#dueTimer);
    this.#dueTimer = undefined;
    if (this.#stopped || this.#goneSince.size === 0) return;
    const due = Math.min(...this.#goneSince.values()) + this.#deps.graceMs;
    this.#dueTimer = setTimeout(() => this.sweep(), Math.max(0, due - performance.now()) + 1);
    this.#dueTimer.unref();
  }
}
