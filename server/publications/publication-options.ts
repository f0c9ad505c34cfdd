/** The tunables of the live publications, with their defaults. */
export interface PublicationOptions {
  /** A live query sends at most one batch of changes per this interval, however many writes (ms). */
  throttleMs: number;
}

export const publicationDefaults: PublicationOptions = {
  throttleMs: 50,
};
