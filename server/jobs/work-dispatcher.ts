/**
 * The getWork calls of one collection root that wait for work (`waitMs`). They are woken by
 * the feed when jobs of their types become ready, never by polling. Among the waiters that want
 * a type, the least-loaded connection (fewest running jobs) claims first, so work spreads to
 * idle workers; ties go to the longest waiting. Claims run one at a time, so that order holds.
 */
import type { JobDoc } from '../../shared/job-doc.ts';
import type { JobFeed } from '../feed/job-feed.ts';
import type { Logger } from '../logger.ts';

export interface WaitRequest {
  connectionId: string | null;
  types: readonly string[];
  waitMs: number;
  /**
   * It takes only the children of these jobs (a worker's slot lent while they wait): finding
   * none says nothing of other work, and it ends, answered [], once none of them is running.
   */
  parents?: readonly string[] | undefined;
  /** Claims for this waiter with getWork's rules; [] when nothing is ready. */
  claim(): Promise<JobDoc[]>;
}

export interface WorkDispatcherOptions {
  /**
   * Waiting calls one connection may have parked. A worker library queue parks one; more only
   * cost the server timers and dispatch time, so past this the oldest is answered [] at once.
   */
  maxWaitersPerConnection: number;
}

export const workDispatcherDefaults: WorkDispatcherOptions = {
  maxWaitersPerConnection: 16,
};

export interface WorkDispatcherDeps {
  /** Where the dispatcher hears that jobs became ready. */
  feed: JobFeed;
  /** How many jobs a connection is running. */
  load(connectionId: string | null): number;
  logger: Logger;
  options?: Partial<WorkDispatcherOptions>;
}

interface Waiter {
  readonly request: WaitRequest;
  readonly arrival: number;
  readonly answer: (jobs: JobDoc[]) => void;
  timer: NodeJS.Timeout | undefined;
  claiming: boolean;
  /** Its time is up (or its connection or the job server stopped) while it was claiming. */
  expired: boolean;
  /** A restricted waiter that found nothing is passed over until the next wake-up. */
  passedOverIn: number;
  /** For a restricted waiter: the jobs it serves that are still running. */
  readonly runningParents: Set<string> | undefined;
}

export class WorkDispatcher {
  readonly #deps: WorkDispatcherDeps;
  readonly #options: WorkDispatcherOptions;
  readonly #waiters = new Set<Waiter>();
  /** Types that may have ready work since the waiters wanting them last claimed. */
  #wanted = new Set<string>();
  #arrivals = 0;
  /** Counts wake-ups by the feed, so that a restricted waiter found nothing is tried again after the next. */
  #wakeUps = 0;
  #pumping = false;
  #closed = false;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: WorkDispatcherDeps) {
    this.#deps = deps;
    this.#options = { ...workDispatcherDefaults, ...deps.options };
  }

  start(): void {
    this.#unsubscribe = this.#deps.feed.subscribe('work dispatcher', (changes) => {
      if (this.#waiters.size === 0) return;
      this.#wakeUps += 1;
      for (const change of changes) {
        if (change.status === 'ready') this.#wanted.add(change.type);
        else if (change.status !== 'running') this.#parentEnded(change.id);
      }
      this.#pump();
    });
  }

  /** How many getWork calls are waiting, for tests and monitoring. */
  get size(): number {
    return this.#waiters.size;
  }

  /** How many waiting getWork calls want `type`. */
  waitingFor(type: string): number {
    let count = 0;
    for (const waiter of this.#waiters) if (!waiter.expired && waiter.request.types.includes(type)) count += 1;
    return count;
  }

  /**
   * Parks a getWork call until it has claimed jobs, or answers [] when `waitMs` passes.
   * The caller has just found nothing ready; work may have become ready since, before this
   * waiter could hear of it, so it claims once more right after it is registered.
   */
  wait(request: WaitRequest): Promise<JobDoc[]> {
    if (this.#closed) return Promise.resolve([]);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        request,
        arrival: this.#arrivals++,
        answer: resolve,
        timer: undefined,
        claiming: false,
        expired: false,
        passedOverIn: -1,
        runningParents: request.parents === undefined ? undefined : new Set(request.parents),
      };
      waiter.timer = setTimeout(() => this.#expire(waiter), request.waitMs);
      this.#makeRoomFor(request.connectionId);
      this.#waiters.add(waiter);
      for (const type of request.types) this.#wanted.add(type);
      this.#pump();
    });
  }

  /**
   * The types of `types` that a waiting call of another, less-loaded connection wants: a claim
   * of `connectionId` outside the dispatcher (an immediate getWork, jobDone's `next`) leaves
   * those to it, so the least-loaded rule holds for every claim. Waiters that take only some
   * jobs (restricted) are no reason to leave anything.
   */
  typesForLessLoaded(types: readonly string[], connectionId: string | null): Set<string> {
    const left = new Set<string>();
    if (this.#waiters.size === 0) return left;
    const load = this.#deps.load(connectionId);
    for (const waiter of this.#waiters) {
      const { request } = waiter;
      if (waiter.expired || request.parents !== undefined || request.connectionId === connectionId) continue;
      const shared = request.types.filter((type) => types.includes(type) && !left.has(type));
      if (shared.length > 0 && this.#deps.load(request.connectionId) < load) for (const type of shared) left.add(type);
    }
    return left;
  }

  /** Answers the connection's waiting calls with []: it closed. */
  connectionClosed(connectionId: string): void {
    for (const waiter of this.#waiters) if (waiter.request.connectionId === connectionId) this.#expire(waiter);
  }

  /** Answers every waiting call with [] (the job server was shut down). */
  answerAll(): void {
    for (const waiter of this.#waiters) this.#expire(waiter);
  }

  /** Answers every waiting call and refuses to park more: the server is stopping. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.answerAll();
  }

  /** A job left `running`: the waiters serving only it (and others ended) have nothing to wait for. */
  #parentEnded(jobId: string): void {
    for (const waiter of this.#waiters) {
      if (waiter.runningParents?.delete(jobId) === true && waiter.runningParents.size === 0) this.#expire(waiter);
    }
  }

  #makeRoomFor(connectionId: string | null): void {
    if (connectionId === null) return;
    const parked = [...this.#waiters].filter((waiter) => waiter.request.connectionId === connectionId && !waiter.expired);
    // Oldest first: the Set keeps arrival order.
    for (const waiter of parked.slice(0, Math.max(0, parked.length - this.#options.maxWaitersPerConnection + 1))) this.#expire(waiter);
  }

  #expire(waiter: Waiter): void {
    // A claim in flight may win jobs; they are its answer, never dropped.
    if (waiter.claiming) waiter.expired = true;
    else this.#settle(waiter, []);
  }

  #settle(waiter: Waiter, jobs: JobDoc[]): void {
    if (!this.#waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    waiter.answer(jobs);
  }

  #pump(): void {
    if (this.#pumping || this.#wanted.size === 0) return;
    this.#pumping = true;
    this.#drain()
      .catch((error: unknown) => this.#deps.logger.error({ err: error }, 'dispatching work to waiting getWork calls failed'))
      .finally(() => {
        this.#pumping = false;
        this.#pump();
      });
  }

  async #drain(): Promise<void> {
    for (;;) {
      const waiter = this.#nextWaiter();
      if (waiter === undefined) return;
      const types = waiter.request.types;
      // Taken out before the claim: work that becomes ready while it runs puts them back.
      for (const type of types) this.#wanted.delete(type);
      waiter.claiming = true;
      // Readiness heard while this claim runs is news to it: it is passed over only until then.
      const wakeUps = this.#wakeUps;
      let jobs: JobDoc[] = [];
      try {
        jobs = await waiter.request.claim();
      } catch (error) {
        this.#deps.logger.error({ err: error }, 'claiming for a waiting getWork failed');
      } finally {
        waiter.claiming = false;
      }
      if (jobs.length > 0) {
        this.#settle(waiter, jobs);
        // There may be more for the next waiter.
        for (const type of types) this.#wanted.add(type);
      } else if (waiter.expired) {
        this.#settle(waiter, []);
      } else if (waiter.request.parents !== undefined) {
        // What it could not take may be for another waiter.
        waiter.passedOverIn = wakeUps;
        for (const type of types) this.#wanted.add(type);
      }
    }
  }

  /** The least-loaded, then longest-waiting, waiter that wants a type that may have work. */
  #nextWaiter(): Waiter | undefined {
    let best: Waiter | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const waiter of this.#waiters) {
      if (waiter.expired || waiter.passedOverIn === this.#wakeUps || !waiter.request.types.some((type) => this.#wanted.has(type))) continue;
      const load = this.#deps.load(waiter.request.connectionId);
      if (load < bestLoad || (load === bestLoad && best !== undefined && waiter.arrival < best.arrival)) {
        best = waiter;
        bestLoad = load;
      }
    }
    if (best === undefined) this.#wanted.clear();
    return best;
  }
}
