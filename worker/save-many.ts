/**
 * `Job.saveMany(root, jobs)`: many new jobs in one `jobSaveMany` call (one transaction on the
 * server) instead of one round trip each. Over the server's batch limit, one call per batch.
 */
import { cumulusLimits } from '../shared/methods.ts';
import type { JobSaveDoc } from '../shared/schemas.ts';
import { chunks } from './job-admin.ts';
import type { JobDocument } from './job-builder.ts';
import { callJobMethod } from './job-methods.ts';
import type { JobRoot } from './job-root.ts';

export interface SaveOptions {
  /** With a `forever`-repeating job: cancel every other job of its type first. */
  cancelRepeats?: boolean;
}

/**
 * Saves `jobs` and stores each new id in its document. Answers the ids in order, null where
 * a job was not saved (as `jobSave` answers null).
 */
export async function saveMany(root: JobRoot, jobs: readonly { readonly doc: JobDocument }[], options: SaveOptions = {}): Promise<(string | null)[]> {
  const ids: (string | null)[] = [];
  for (const part of chunks(jobs, cumulusLimits.maxBatch)) {
    const docs = part.map((job) => job.doc as JobSaveDoc);
    const answer = await callJobMethod(root, 'jobSaveMany', [docs, options]);
    part.forEach((job, i) => {
      const id = answer[i] ?? null;
      if (id !== null) job.doc._id = id;
      ids.push(id);
    });
  }
  return ids;
}
