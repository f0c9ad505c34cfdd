// Prepares each Cumulus collection root listed in CUMULUS_COLLECTIONS (default "queue"): the
// collections, change-stream pre- and post-images (MongoDB 6.0+), and the indexes. Cumulus does
// the same when it starts; run this ahead when its database user may not create indexes.
// Usage: CUMULUS_COLLECTIONS=queue mongosh "mongodb://localhost:27017/cumulus?replicaSet=rs0" mongo-init/02-indexes.js
// The list below must stay the same as server/store/mongo/indexes.ts (a test compares them).

const roots = (process.env.CUMULUS_COLLECTIONS ?? 'queue').split(',').map((s) => s.trim()).filter(Boolean);

const indexes = [
  // nextReady: ready jobs of the asked types in claim order.
  { collection: 'jobs', name: 'claim', keys: { type: 1, priority: 1, retryUntil: 1, after: 1, created: 1, _seq: 1 }, partialFilterExpression: { status: 'ready' } },
  // nextReady with parents: the ready children of the jobs waiting for them.
  { collection: 'jobs', name: 'children', keys: { parent: 1, priority: 1, retryUntil: 1, after: 1, created: 1, _seq: 1 }, partialFilterExpression: { status: 'ready' } },
  // promotable and nextPromotionTime: waiting jobs by due time.
  { collection: 'jobs', name: 'promote', keys: { after: 1, _seq: 1 }, partialFilterExpression: { status: 'waiting' } },
  // expired: running jobs by the end of their lease.
  { collection: 'jobs', name: 'expire', keys: { expiresAfter: 1, _seq: 1 }, partialFilterExpression: { status: 'running' } },
  // dependentsOf: jobs whose pending depends name an antecedent.
  { collection: 'jobs', name: 'depends', keys: { depends: 1 } },
  // counts, and lists by type and status.
  { collection: 'jobs', name: 'type_status', keys: { type: 1, status: 1 } },
  // lists by recent activity and by creation.
  { collection: 'jobs', name: 'recent', keys: { updated: -1, _id: -1 } },
  { collection: 'jobs', name: 'created', keys: { created: 1, _seq: 1 } },
  // lists newest first and by priority.
  { collection: 'jobs', name: 'newest', keys: { created: -1, _id: -1 } },
  { collection: 'jobs', name: 'priority', keys: { priority: 1, created: -1, _id: -1 } },
  // search: every job's words, newest saved first within a word.
  { collection: 'jobs', name: 'words', keys: { _words: 1, _seq: -1 } },
  // chainsOf: the chains a job's handler submitted.
  { collection: 'chains', name: 'parent', keys: { parent: 1, _seq: 1 } },
  // analytics: a resolution's periods by start.
  { collection: 'analytics', name: 'period', keys: { resolution: 1, at: 1 } },
];

for (const root of roots) {
  for (const collection of ['jobs', 'chains', 'analytics']) {
    if (!db.getCollectionNames().includes(`${root}.${collection}`)) db.createCollection(`${root}.${collection}`);
  }
  db.runCommand({ collMod: `${root}.jobs`, changeStreamPreAndPostImages: { enabled: true } });
  for (const index of indexes) {
    const collection = db.getCollection(`${root}.${index.collection}`);
    // The same keys under another name (jobCollection makes type_1_status_1) serve as well, and
    // MongoDB refuses a second index on them.
    const same = (other) =>
      JSON.stringify(other.key) === JSON.stringify(index.keys) &&
      JSON.stringify(other.partialFilterExpression) === JSON.stringify(index.partialFilterExpression);
    if (collection.getIndexes().some(same)) continue;
    const options = { name: index.name };
    if (index.partialFilterExpression !== undefined) options.partialFilterExpression = index.partialFilterExpression;
    collection.createIndex(index.keys, options);
  }
  print(`${root}: collections, change-stream images and indexes ready`);
}

// Server leases: a server's document goes an hour after its lease expired.
db.getCollection('cumulus.servers').createIndex({ expiresAt: 1 }, { name: 'expiry', expireAfterSeconds: 3600 });
