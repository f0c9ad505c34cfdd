/**
 * The publications Cumulus offers each collection root, and their parameters. Documents of
 * `<root>.jobs` are job documents (without log and failures); `<root>.stats` has one document
 * per job type with a count per status.
 */
import { z } from 'zod';
import { jobStatus, id } from './schemas.ts';

export const jobsPublicationLimit = { default: 100, max: 1000 } as const;

/** Parameters of `<root>.jobs`: an optional filter; absent criteria match every job. */
export const jobsFilter = z.strictObject({
  status: z.union([jobStatus, z.array(jobStatus)]).optional(),
  type: z.union([z.string(), z.array(z.string())]).optional(),
  ids: z.array(id).optional(),
  limit: z.number().int().min(1).max(jobsPublicationLimit.max).optional(),
});
export type JobsFilter = z.output<typeof jobsFilter>;
