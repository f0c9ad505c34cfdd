/**
 * One live query of `<root>.jobs` — a filter and a limit — shared by every subscription that
 * asks for it (Meteor's observe multiplexing). It keeps the window of jobs it shows and applies
 * each committed change to it from the change itself, reading the store again only when a full
 * window loses a job and must be refilled. Changes are coalesced per job over the throttle
 * interval, and the net difference is computed once and handed to every subscriber, a slice of
 * subscribers per turn of the event loop so that a large fan-out never stalls method calls.
 */
import type { Logger } from '../logger.ts';
import { forClient } from '../jobs/job-docs.ts';
import type { JobChange, JobFilter, JobStore, StoredJob } from '../store/job-store.ts';
import { BatchPacing } from './batch-pacing.ts';
import { type Fields, fieldDiff } from './field-diff.ts';
import { JobWindow } from './job-window.ts';
import type { PublicationOptions } from './publication-options.ts';


/** Where an observer sends what changed: one subscription's view of the collection. */
export interface LiveSubscriber {
  added(id: string, fields: Fields): void;
  /** A field set to `undefined` is cleared. */
  changed(id: string, fields: Fields): void;
  removed(id: string): void;
}

export interface ObserverDeps {
  store: JobStore;
  logger: Logger;
  pacing: PublicationOptions;
}

/** One change of what the subscribers see, computed once for all of them. */
type Op = { kind: 'added' | 'changed'; id: string; fields: Fields } | { kind: 'removed'; id: string };

/** About how many messages one turn of the event loop hands out before letting other work in. */
const messagesPerTurn = 4000;

function sendOps(subscriber: LiveSubscriber, ops: readonly Op[]): void {
  for (const op of ops) {
    if (op.kind === 'removed') subscriber.removed(op.id);
    else if (op.kind === 'added') subscriber.added(op.id, op.fields);
    else subscriber.changed(op.id, op.fields);
  }
}

/** The fields a subscriber sees of a job: what clients may see, without `_id` and `failures`. */
function publishedFields(job: StoredJob): Fields {
  const { _id: _ignored, ...fields } = forClient(job, { failures: false });
  return fields;
}

export class JobQueryObserver {
  readonly filter: JobFilter;
  readonly limit: number;
  readonly #deps: ObserverDeps;
  readonly #statuses: ReadonlySet<string> | undefined;
  readonly #types: ReadonlySet<string> | undefined;
  readonly #ids: ReadonlySet<string> | undefined;
  readonly #window = new JobWindow();
  /** What the subscribers have, by job id. */
  readonly #published = new Map<string, Fields>();
  /** Whether the window holds every matching job (so losing one needs no refill). */
  #complete = false;
  /** The latest change of each job since the last flush. */
  #pending = new Map<string, JobChange>();
  readonly #subscribers = new Set<LiveSubscriber>();
  readonly #pacing: BatchPacing;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(filter: JobFilter, limit: number, deps: ObserverDeps) {
    this.filter = filter;
    this.limit = limit;
    this.#deps = deps;
    this.#pacing = new BatchPacing(deps.pacing);
    this.#statuses = filter.statuses === undefined ? undefined : new Set(filter.statuses);
    this.#types = filter.types === undefined ? undefined : new Set(filter.types);
    this.#ids = filter.ids === undefined ? undefined : new Set(filter.ids);
  }

  /** Reads the first window. */
  async start(): Promise<void> {
    await this.#refill();
    for (const doc of this.#window.docs()) this.#published.set(doc._id, publishedFields(doc));
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Adds a subscriber and sends it the current window. */
  subscribe(subscriber: LiveSubscriber): void {
    this.#subscribers.add(subscriber);
    for (const [id, fields] of this.#published) subscriber.added(id, fields);
  }

  unsubscribe(subscriber: LiveSubscriber): void {
    this.#subscribers.delete(subscriber);
  }

  /** Whether a change of this job could concern the query at all (a cheap test before `note`). */
  mayConcern(change: JobChange): boolean {
    if (this.#ids !== undefined && !this.#ids.has(change.id)) return false;
    return this.#types === undefined || this.#types.has(change.type);
  }

  /** Takes note of a committed change; it is applied at the next flush, within the throttle. */
  note(change: JobChange): void {
    if (this.#stopped) return;
    this.#pending.set(change.id, change);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((error: unknown) => this.#deps.logger.error({ err: error }, 'a live query failed to apply changes'));
    }, this.#pacing.nextDelay());
  }

  /** Applies the noted changes now (the write fence of a subscriber's own methods). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // One flush at a time, so that the differences apply in order.
    this.#flushing = this.#flushing.then(() => this.#apply());
    return this.#flushing;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#subscribers.clear();
  }

  async #apply(): Promise<void> {
    if (this.#stopped || this.#pending.size === 0) return;
    const changes = this.#pending;
    this.#pending = new Map();
    const affected = new Set(changes.keys());
    for (const change of changes.values()) this.#applyChange(change, affected);
    if (this.#window.size < this.limit && !this.#complete) {
      for (const id of this.#window.ids()) affected.add(id);
      for (const id of this.#published.keys()) affected.add(id);
      await this.#refill();
      for (const id of this.#window.ids()) affected.add(id);
    }
    await this.#publish(affected);
  }

  /** Applies one change to the window; jobs it pushes out of the window join `affected`. */
  #applyChange(change: JobChange, affected: Set<string>): void {
    const doc = change.doc;
    if (doc === undefined) {
      // A removal; a change of the log alone changes nothing shown.
      if (change.status === null) this.#window.remove(change.id);
      return;
    }
    if (!this.#matches(doc)) {
      this.#window.remove(change.id);
      return;
    }
    if (this.#window.size >= this.limit && !this.#window.has(doc._id) && this.#window.isBeyondLast(doc)) {
      this.#complete = false;
      return;
    }
    this.#window.upsert(doc);
    while (this.#window.size > this.limit) {
      const evicted = this.#window.popLast();
      if (evicted !== undefined) affected.add(evicted._id);
      this.#complete = false;
    }
  }

  async #refill(): Promise<void> {
    const docs = await this.#deps.store.list(this.filter, { limit: this.limit, order: 'updated-desc' });
    this.#window.replaceAll(docs);
    this.#complete = docs.length < this.limit;
  }

  #matches(doc: StoredJob): boolean {
    return (this.#statuses?.has(doc.status) ?? true) && (this.#types?.has(doc.type) ?? true) && (this.#ids?.has(doc._id) ?? true);
  }

  /** Sends every subscriber the net difference, for the affected jobs, between what it has and the window. */
  async #publish(affected: ReadonlySet<string>): Promise<void> {
    const ops: Op[] = [];
    for (const id of affected) {
      const before = this.#published.get(id);
      const doc = this.#window.get(id);
      if (doc === undefined) {
        if (before === undefined) continue;
        this.#published.delete(id);
        ops.push({ kind: 'removed', id });
        continue;
      }
      const after = publishedFields(doc);
      this.#published.set(id, after);
      if (before === undefined) {
        ops.push({ kind: 'added', id, fields: after });
        continue;
      }
      const diff = fieldDiff(before, after);
      if (diff !== undefined) ops.push({ kind: 'changed', id, fields: diff });
    }
    if (ops.length === 0) return;
    // A subscriber joining from here on gets `#published`, the state after these ops.
    const subscribers = [...this.#subscribers];
    this.#pacing.sent(ops.length * subscribers.length);
    const perTurn = Math.max(1, Math.floor(messagesPerTurn / ops.length));
    for (let from = 0; from < subscribers.length; from += perTurn) {
      if (from > 0) await new Promise((resolve) => setImmediate(resolve));
      if (this.#stopped) return;
      for (const subscriber of subscribers.slice(from, from + perTurn)) {
        if (this.#subscribers.has(subscriber)) sendOps(subscriber, ops);
      }
    }
  }
}
