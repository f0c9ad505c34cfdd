/** Walking the dependency graph for the cascading batch operations (cancel, restart). */
import type { JobStatus } from '../../shared/constants.ts';
import type { JobTransaction } from '../store/job-store.ts';

export interface RelatedOptions {
  /** Jobs named in the pending `depends` of the given jobs. */
  antecedents: boolean;
  /** Jobs whose pending `depends` names one of the given jobs. */
  dependents: boolean;
}

/** Ids of the jobs related to `ids` that are in one of `statuses`, without duplicates. */
export async function relatedJobIds(
  tx: JobTransaction,
  ids: readonly string[],
  options: RelatedOptions,
  statuses: readonly JobStatus[],
): Promise<string[]> {
  const related = new Set<string>();
  if (options.dependents) {
    for (const job of await tx.dependentsOf(ids, statuses)) related.add(job._id);
  }
  if (options.antecedents) {
    const antecedentIds = new Set<string>();
    for (const id of ids) {
      const job = await tx.get(id);
      for (const antecedent of job?.depends ?? []) antecedentIds.add(antecedent);
    }
    if (antecedentIds.size > 0) {
      for (const job of await tx.find({ ids: [...antecedentIds], statuses })) related.add(job._id);
    }
  }
  return [...related];
}
