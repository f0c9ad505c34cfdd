/** The tunables of the live publications, with their defaults. */
export interface PublicationOptions {
  /** A live query sends at most one batch of changes per this interval, however many writes (ms). */
  throttleMs: number;
  /** The messages a live query sends per second on average, at most; past it batches are spaced out. */
  messagesPerSecond: number;
}

export const publicationDefaults: PublicationOptions = {
  throttleMs: 50,
  messagesPerSecond: 50_000,
};
