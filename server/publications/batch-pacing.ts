/**
 * When a live query sends its next batch of changes (docs/PROTOCOL.md §7.6). Changes are
 * coalesced for at least the throttle; after a batch that cost many messages (one per subscriber
 * and changed document) the next one waits until the query's rate is back under
 * `messagesPerSecond`, for at most `maxBatchIntervalMs`. A thousand dashboards watching a busy
 * queue so get fewer, larger batches, each with the latest state, and what they cost the server
 * stays bounded instead of growing with subscribers times writes.
 */
import type { PublicationOptions } from './publication-options.ts';

/** The longest a change waits before it is sent, however costly the batches. */
export const maxBatchIntervalMs = 5000;

export class BatchPacing {
  readonly #options: PublicationOptions;
  readonly #now: () => number;
  /** When the last batch went out, and how many messages it cost. */
  #lastAt = Number.NEGATIVE_INFINITY;
  #lastMessages = 0;

  constructor(options: PublicationOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  /** How long to coalesce changes, from now, before the next batch. */
  nextDelay(): number {
    const { throttleMs, messagesPerSecond } = this.#options;
    if (throttleMs === 0) return 0;
    const spacedUntil = this.#lastAt + (this.#lastMessages / messagesPerSecond) * 1000;
    const delay = Math.max(throttleMs, spacedUntil - this.#now());
    return Math.min(delay, Math.max(throttleMs, maxBatchIntervalMs));
  }

  /** A batch of `messages` messages has gone out. */
  sent(messages: number): void {
    this.#lastAt = this.#now();
    this.#lastMessages = messages;
  }
}
