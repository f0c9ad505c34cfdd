// Creates the indexes of every Cumulus collection root (CUMULUS_COLLECTIONS, default "queue").
// Usage: CUMULUS_COLLECTIONS=queue mongosh "mongodb://localhost:27017/cumulus?replicaSet=rs0" mongo-init/02-indexes.js
// Each index serves one query of the store (see server/store/job-store.ts):

const roots = (process.env.CUMULUS_COLLECTIONS ?? 'queue').split(',').map((s) => s.trim()).filter(Boolean);
for (const root of roots) {
  const jobs = db.getCollection(`${root}.jobs`);
  // nextReady: claim the next ready job of a type in priority order (upstream lacked it, §5.5).
  jobs.createIndex({ status: 1, type: 1, priority: 1, retryUntil: 1, after: 1, created: 1 }, { name: 'claim' });
  // promotable / nextPromotionTime: waiting jobs by due time.
  jobs.createIndex({ status: 1, after: 1 }, { name: 'due' });
  // expired: running jobs whose lease ran out.
  jobs.createIndex({ status: 1, expiresAfter: 1 }, { name: 'lease' });
  // dependentsOf: jobs waiting on an antecedent.
  jobs.createIndex({ depends: 1 }, { name: 'depends' });
  // counts by type and status; list by recent activity.
  jobs.createIndex({ type: 1, status: 1 }, { name: 'type_status' });
  jobs.createIndex({ updated: -1 }, { name: 'recent' });
  print(`indexes ready on ${root}.jobs`);
}
