/**
 * Copies one collection root from a store to another, whatever their backends: every job
 * whole (document, log, failures, claim) and every chain, page by page in id order, each page
 * in one transaction of the target. A job or chain the target already has is left as it is,
 * so a copy that was interrupted is resumed by running it again. The counts per type and
 * status are compared at the end.
 *
 * Running jobs keep their claims: in the target they name a server that is gone, so the first
 * server started on it requeues them after the grace (docs/PROTOCOL.md §7.5).
 */
import type { JobStore, QueueCounts } from '../store/job-store.ts';

export interface CopyProgress {
  /** Jobs read from the source so far. */
  jobsRead: number;
  /** Of those, how many the target already had. */
  jobsPresent: number;
  chainsRead: number;
  chainsPresent: number;
}

export interface CopyOutcome extends CopyProgress {
  /** Where the counts by type and status differ: `type/status: source → target`. Empty when they agree. */
  mismatches: string[];
}

export interface CopyOptions {
  /** Jobs or chains per page (and per target transaction). */
  pageSize?: number;
  /** Called after each page. */
  onProgress?: (progress: CopyProgress) => void;
}

export async function copyStore(source: JobStore, target: JobStore, options: CopyOptions = {}): Promise<CopyOutcome> {
  const pageSize = options.pageSize ?? 500;
  const progress: CopyProgress = { jobsRead: 0, jobsPresent: 0, chainsRead: 0, chainsPresent: 0 };
  // Chains first: a job's chain is then already there when the job arrives.
  for (let after: string | undefined, page = await source.scanChains(undefined, pageSize); page.length > 0; page = await source.scanChains(after, pageSize)) {
    after = page.at(-1)?._id;
    const present = await target.transaction(async (tx) => {
      let found = 0;
      for (const chain of page) {
        if ((await tx.getChain(chain._id)) === undefined) await tx.insertChain(chain);
        else found += 1;
      }
      return found;
    });
    progress.chainsRead += page.length;
    progress.chainsPresent += present;
    options.onProgress?.({ ...progress });
  }
  for (let after: string | undefined, page = await source.scanJobs(undefined, pageSize); page.length > 0; page = await source.scanJobs(after, pageSize)) {
    after = page.at(-1)?._id;
    const present = await target.transaction(async (tx) => {
      let found = 0;
      for (const { log, ...job } of page) {
        if ((await tx.get(job._id)) === undefined) await tx.insert(job, log);
        else found += 1;
      }
      return found;
    });
    progress.jobsRead += page.length;
    progress.jobsPresent += present;
    options.onProgress?.({ ...progress });
  }
  return { ...progress, mismatches: countMismatches(await source.counts(), await target.counts()) };
}

/** The type/status pairs whose counts differ. */
export function countMismatches(source: QueueCounts, target: QueueCounts): string[] {
  const mismatches: string[] = [];
  const types = new Set([...Object.keys(source), ...Object.keys(target)]);
  for (const type of [...types].sort()) {
    const statuses = new Set([...Object.keys(source[type] ?? {}), ...Object.keys(target[type] ?? {})]) as Set<keyof QueueCounts[string]>;
    for (const status of [...statuses].sort()) {
      const from = source[type]?.[status] ?? 0;
      const to = target[type]?.[status] ?? 0;
      if (from !== to) mismatches.push(`${type}/${status}: ${from} → ${to}`);
    }
  }
  return mismatches;
}
