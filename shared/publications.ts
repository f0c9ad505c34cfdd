/**
 * The publications Cumulus offers each collection root, and their parameters. Documents of
 * `<root>.jobs` are job documents (without log and failures); `<root>.stats` has one document
 * per job type with a count per status; `<root>.analytics` has one per type and period (§7.18).
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
  /**
   * At most one batch of changes per this many ms (the server's own throttle is the least): a view
   * that people read, repainting a few times a second, needs no more, and a job that enters and
   * leaves a busy window in between is never sent.
   */
  throttleMs: z.number().int().min(0).max(5000).optional(),
});
export type JobsFilter = z.output<typeof jobsFilter>;

/** Parameters of `<root>.analytics`: the resolution and how far back, in periods of it. */
export const analyticsParams = z
  .strictObject({
    resolution: z.enum(['minute', 'hour']).optional(),
    /** Minutes (≤ 1440) or hours (≤ 720) back from now; 60 minutes or 48 hours by default. */
    periods: z.number().int().min(1).max(1440).optional(),
  })
  .refine((params) => params.resolution !== 'hour' || (params.periods ?? 0) <= 720, { message: 'at most 720 hours' });
