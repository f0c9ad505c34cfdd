/**
 * `Job.saveMany(root, jobs)`: many new jobs in one `jobSaveMany` call (one transaction on the
 * server) instead of one round trip each. Over the server's batch limit, one call per batch.
 */
import { cumulusLimits } from '../shared/methods.ts';
import { randomId } from '../shared/random-id.ts';
import type { JobSaveDoc } from '../shared/schemas.ts';
import { chunks } from './job-admin.ts';
import type { JobDocument } from './job-builder.ts';
import { callJobMethod } from './job-methods.ts';
import type { JobRoot } from './job-root.ts';
import { untilAnswered } from './until-answered.ts';

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
    // New jobs get client-chosen ids, so a call repeated after a lost answer finds the first
    // (docs/PROTOCOL.md §7.10); a batch that re-saves paused jobs goes once, as meteor-job's would.
    const answer = docs.some((doc) => doc._id != null)
      ? await callJobMethod(root, 'jobSaveMany', [docs, options])
      : await saveNew(root, docs, options);
    part.forEach((job, i) => {
      const id = answer[i] ?? null;
      if (id !== null) job.doc._id = id;
      ids.push(id);
    });
  }
  return ids;
}

function saveNew(root: JobRoot, docs: JobSaveDoc[], options: SaveOptions): Promise<(string | null)[]> {
  const ids = docs.map(() => randomId());
  return untilAnswered(root, () => callJobMethod(root, 'jobSaveMany', [docs, { ...options, ids }]));
}
