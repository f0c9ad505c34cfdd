/**
 * One run of a publication for one client subscription id, as Meteor's `Subscription`. Once
 * deactivated (stopped, errored, its connection gone, or replaced by a re-run) it ignores every
 * call, so late callbacks from a publication's observers are harmless.
 */
import type { Logger } from '../logger.ts';
import type { MergeBox } from './merge-box.ts';
import type { ConnectionInfo, PublishHandler, PublishedId, Subscription } from './types.ts';
import { idStringify } from './id-stringify.ts';

/** What a subscription needs from its session. */
export interface SubscriptionHost {
  readonly connection: ConnectionInfo;
  readonly mergeBox: MergeBox;
  readonly logger: Logger;
  sendReady(sub: ActiveSubscription): void;
  /** Removes the subscription's documents, deactivates it and answers `nosub`. */
  stopSubscription(sub: ActiveSubscription, error?: unknown): void;
}

export class ActiveSubscription implements Subscription {
  /** collection → stringified ids this run has published and not removed. */
  readonly #documents = new Map<string, Set<string>>();
  readonly #stopCallbacks: Array<() => void> = [];
  readonly #fenceCallbacks: Array<() => void | Promise<void>> = [];
  #isReady = false;
  #deactivated = false;

  readonly #handler: PublishHandler;
  readonly #params: unknown[];
  readonly #host: SubscriptionHost;

  constructor(
    readonly id: string,
    readonly name: string,
    handler: PublishHandler,
    params: unknown[],
    readonly userId: string | null,
    host: SubscriptionHost,
  ) {
    this.#handler = handler;
    this.#params = params;
    this.#host = host;
  }

  get connection(): ConnectionInfo {
    return this.#host.connection;
  }

  get active(): boolean {
    return !this.#deactivated;
  }

  added(collection: string, id: PublishedId, fields: Record<string, unknown>): void {
    if (this.#deactivated) return;
    const key = idStringify(id);
    let ids = this.#documents.get(collection);
    if (ids === undefined) this.#documents.set(collection, (ids = new Set()));
    ids.add(key);
    this.#host.mergeBox.added(this, collection, key, fields);
  }

  changed(collection: string, id: PublishedId, fields: Record<string, unknown>): void {
    if (this.#deactivated) return;
    const key = idStringify(id);
    if (!this.#documents.get(collection)?.has(key)) {
      this.#host.logger.warn({ subscription: this.name, collection, id: key }, 'publication changed a document it never added');
      return;
    }
    this.#host.mergeBox.changed(this, collection, key, fields);
  }

  removed(collection: string, id: PublishedId): void {
    if (this.#deactivated) return;
    const key = idStringify(id);
    // Never pass on a removal of a document this run did not publish: `ddp` crashes on one.
    if (!this.#documents.get(collection)?.delete(key)) return;
    this.#host.mergeBox.removed(this, collection, key);
  }

  ready(): void {
    if (this.#deactivated || this.#isReady) return;
    this.#isReady = true;
    this.#host.sendReady(this);
  }

  error(err: unknown): void {
    if (this.#deactivated) return;
    this.#host.stopSubscription(this, err);
  }

  stop(): void {
    if (this.#deactivated) return;
    this.#host.stopSubscription(this);
  }

  onStop(cb: () => void): void {
    if (this.#deactivated) this.#callSafely(cb, 'onStop');
    else this.#stopCallbacks.push(cb);
  }

  onFence(cb: () => void | Promise<void>): void {
    if (!this.#deactivated) this.#fenceCallbacks.push(cb);
  }

  /** Runs the publication; a throw or rejection stops the subscription with that error. */
  async run(): Promise<void> {
    try {
      await this.#handler(this, this.#params);
    } catch (error) {
      this.error(error);
    }
  }

  /** The same subscription for a new user (setUserId), not yet run. */
  recreate(userId: string | null): ActiveSubscription {
    return new ActiveSubscription(this.id, this.name, this.#handler, this.#params, userId, this.#host);
  }

  /** Flushes registered by the publication, awaited before `updated` (the write fence). */
  fences(): ReadonlyArray<() => void | Promise<void>> {
    return this.#deactivated ? [] : this.#fenceCallbacks;
  }

  removeAllDocuments(): void {
    for (const [collection, ids] of this.#documents) {
      for (const id of ids) this.#host.mergeBox.removed(this, collection, id);
    }
    this.#documents.clear();
  }

  /** Stops for good and runs the stop callbacks; sends nothing. */
  deactivate(): void {
    if (this.#deactivated) return;
    this.#deactivated = true;
    this.#fenceCallbacks.length = 0;
    for (const cb of this.#stopCallbacks.splice(0)) this.#callSafely(cb, 'onStop');
  }

  #callSafely(cb: () => unknown, hook: string): void {
    const log = (error: unknown) =>
      this.#host.logger.error({ err: error, subscription: this.name, hook }, 'subscription callback failed');
    try {
      const result = cb();
      if (result instanceof Promise) result.catch(log);
    } catch (error) {
      log(error);
    }
  }
}
