/**
 * A connection's named subscriptions: `sub`/`unsub` handling, stopping with `nosub`, and the
 * setUserId re-run (docs/PROTOCOL.md §1.8, Meteor's `_setUserId`).
 */
import { subscriptionNotFound, toClientError, CumulusError } from '../../shared/errors.ts';
import type { Logger } from '../logger.ts';
import type { MergeBox } from './merge-box.ts';
import { ActiveSubscription, type SubscriptionHost } from './subscription.ts';
import type { ConnectionInfo, PublishHandler } from './types.ts';
import type { SubMessage } from './wire.ts';

export interface SubscriptionsContext {
  readonly connection: ConnectionInfo;
  readonly mergeBox: MergeBox;
  readonly logger: Logger;
  readonly publications: ReadonlyMap<string, PublishHandler>;
  send(message: object): void;
}

export class SessionSubscriptions implements SubscriptionHost {
  #named = new Map<string, ActiveSubscription>();
  // While a re-run rebuilds the merge box silently, `ready` waits until its diff is sent.
  #pendingReady: string[] | undefined;

  readonly #ctx: SubscriptionsContext;

  constructor(ctx: SubscriptionsContext) {
    this.#ctx = ctx;
  }

  get connection(): ConnectionInfo {
    return this.#ctx.connection;
  }

  get mergeBox(): MergeBox {
    return this.#ctx.mergeBox;
  }

  get logger(): Logger {
    return this.#ctx.logger;
  }

  /** Handles a well-formed `sub`; resolves once the publication's handler has settled. */
  async start(message: SubMessage): Promise<void> {
    const handler = this.#ctx.publications.get(message.name);
    if (handler === undefined) {
      this.#ctx.send({ msg: 'nosub', id: message.id, error: subscriptionNotFound(message.name).toWire() });
      return;
    }
    // A repeated id is ignored, which makes re-subscribing after a reconnect harmless.
    if (this.#named.has(message.id)) return;
    const sub = new ActiveSubscription(message.id, message.name, handler, message.params, this.connection.userId, this);
    this.#named.set(message.id, sub);
    await sub.run();
  }

  /** Handles `unsub`: unknown and already-stopped ids are answered too, as simpleddp waits for it. */
  unsub(id: unknown): void {
    const sub = typeof id === 'string' ? this.#named.get(id) : undefined;
    if (sub !== undefined) this.stopSubscription(sub);
    else this.#ctx.send({ msg: 'nosub', id });
  }

  sendReady(sub: ActiveSubscription): void {
    if (this.#pendingReady !== undefined) this.#pendingReady.push(sub.id);
    else this.#ctx.send({ msg: 'ready', subs: [sub.id] });
  }

  stopSubscription(sub: ActiveSubscription, error?: unknown): void {
    if (this.#named.get(sub.id) === sub) {
      sub.removeAllDocuments();
      sub.deactivate();
      this.#named.delete(sub.id);
    }
    if (error === undefined) {
      this.#ctx.send({ msg: 'nosub', id: sub.id });
      return;
    }
    if (!(error instanceof CumulusError)) this.logger.error({ err: error, subscription: sub.name }, 'publication failed');
    this.#ctx.send({ msg: 'nosub', id: sub.id, error: toClientError(error).toWire() });
  }

  /**
   * Re-runs every subscription for a new user: the old runs stop, the new ones build the merge
   * box from nothing, and the client receives only the difference, then the `ready`s.
   */
  async rerun(userId: string | null): Promise<void> {
    const previous = [...this.#named.values()];
    for (const sub of previous) sub.deactivate();
    const finishRebuild = this.mergeBox.beginRebuild();
    this.#pendingReady = [];
    this.#named = new Map();
    try {
      await Promise.all(
        previous.map((old) => {
          const fresh = old.recreate(userId);
          this.#named.set(fresh.id, fresh);
          return fresh.run();
        }),
      );
    } finally {
      const ready = this.#pendingReady;
      this.#pendingReady = undefined;
      finishRebuild();
      if (ready.length > 0) this.#ctx.send({ msg: 'ready', subs: ready });
    }
  }

  /** Flushes of every active subscription, for the write fence. */
  fences(): Array<() => void | Promise<void>> {
    return [...this.#named.values()].flatMap((sub) => [...sub.fences()]);
  }

  /** The connection is gone: stop everything, send nothing. */
  stopAll(): void {
    const subs = [...this.#named.values()];
    this.#named.clear();
    for (const sub of subs) sub.deactivate();
  }
}
