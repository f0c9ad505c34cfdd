/**
 * DDP subscriptions kept by the connection itself: each is sent once the connection is ready
 * (after login), sent again under a new id after every reconnect, and reports `nosub` errors
 * through its own promise — never as the unhandled rejection simpleddp's `ready()` produces.
 */
import { Listeners } from './listeners.ts';
import { toError } from './pending-calls.ts';

/** A live subscription. */
export interface Subscription {
  /** Resolves at the first `ready`; rejects when the server refuses the subscription. */
  readonly ready: Promise<void>;
  /** Called at every `ready`, including the one after each reconnect. */
  onReady(listener: () => void): () => void;
  /** Called when the server ends the subscription with an error (e.g. 403), or the connection closes. */
  onError(listener: (error: Error) => void): () => void;
  stop(): void;
}

interface SubscriptionLink {
  readonly connected: boolean;
  sub(name: string, params: unknown[]): string;
  unsub(id: string): void;
}

class LiveSubscription implements Subscription {
  id: string | undefined;
  stopped = false;
  readonly ready: Promise<void>;
  readonly readyListeners = new Listeners<[]>();
  readonly errorListeners = new Listeners<[Error]>();
  settleFirst!: (error?: Error) => void;
  readonly #owner: Subscriptions;

  constructor(
    readonly name: string,
    readonly params: unknown[],
    owner: Subscriptions,
  ) {
    this.#owner = owner;
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleFirst = (error) => (error === undefined ? resolve() : reject(error));
    });
    // An owner that never awaits `ready` must not crash the process on a refusal.
    this.ready.catch(() => undefined);
  }

  onReady(listener: () => void): () => void {
    return this.readyListeners.add(listener);
  }

  onError(listener: (error: Error) => void): () => void {
    return this.errorListeners.add(listener);
  }

  stop(): void {
    this.#owner.stop(this);
  }
}

export class Subscriptions {
  readonly #all = new Set<LiveSubscription>();
  readonly #byId = new Map<string, LiveSubscription>();
  readonly #link: SubscriptionLink;
  readonly #report: (error: unknown) => void;

  constructor(link: SubscriptionLink, report: (error: unknown) => void) {
    this.#link = link;
    this.#report = report;
  }

  add(name: string, params: unknown[], ready: boolean): Subscription {
    const record = new LiveSubscription(name, params, this);
    this.#all.add(record);
    if (ready) this.#send(record);
    return record;
  }

  stop(record: LiveSubscription): void {
    if (record.stopped) return;
    record.stopped = true;
    this.#all.delete(record);
    if (record.id !== undefined) {
      this.#byId.delete(record.id);
      if (this.#link.connected) this.#link.unsub(record.id);
    }
    record.settleFirst(new Error(`subscription ${record.name} stopped before it was ready`));
  }

  /** The connection is ready (after login): (re)send every subscription. */
  resume(): void {
    for (const record of this.#all) this.#send(record);
  }

  /** The socket is gone, and with it every subscription id. */
  disconnected(): void {
    this.#byId.clear();
    for (const record of this.#all) record.id = undefined;
  }

  /** Ends everything without telling the server (the connection is closing), reporting `error`. */
  clear(error: Error): void {
    for (const record of [...this.#all]) {
      record.id = undefined;
      this.stop(record);
      record.errorListeners.emit(this.#report, error);
    }
  }

  readyMessage(ids: unknown): void {
    if (!Array.isArray(ids)) return;
    for (const id of ids) {
      const record = typeof id === 'string' ? this.#byId.get(id) : undefined;
      if (record === undefined) continue;
      record.settleFirst();
      record.readyListeners.emit(this.#report);
    }
  }

  nosubMessage(id: unknown, wireError: unknown): void {
    const record = typeof id === 'string' ? this.#byId.get(id) : undefined;
    if (record === undefined) return;
    this.#byId.delete(record.id as string);
    record.id = undefined;
    if (wireError === undefined || wireError === null) return;
    const error = toError(wireError);
    record.stopped = true;
    this.#all.delete(record);
    record.settleFirst(error);
    record.errorListeners.emit(this.#report, error);
  }

  #send(record: LiveSubscription): void {
    if (record.stopped || record.id !== undefined) return;
    record.id = this.#link.sub(record.name, record.params);
    this.#byId.set(record.id, record);
  }
}
