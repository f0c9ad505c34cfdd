// The query plans of the MongoDB store: each query it runs is explained by a real server and
// must walk its index (server/store/mongo/indexes.ts), never scan the collection. Needs a real
// replica set (`MONGO_URL`, as in the CI workflow); skipped otherwise, since the in-memory
// backend has no query planner.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Document, MongoClient } from 'mongodb';
import { createLogger } from '../../server/logger.ts';
import type { OpenedStores } from '../../server/store/open-store.ts';
import { claimSort } from '../../server/store/mongo/mongo-transaction.ts';
import { openMongoStores } from '../../server/store/mongo/open-mongo.ts';
import { randomId } from '../../shared/random-id.ts';
import { makeJob } from '../helpers/job-fixtures.ts';
import { realMongoUrl, withDatabase } from '../helpers/shared-mongo.ts';

/** Every stage of an explained plan, whatever the server version's nesting. */
function stagesOf(plan: unknown, found: { stage: string; indexName?: string }[] = []): { stage: string; indexName?: string }[] {
  if (Array.isArray(plan)) {
    for (const item of plan) stagesOf(item, found);
  } else if (plan !== null && typeof plan === 'object') {
    const node = plan as Document;
    if (typeof node.stage === 'string') found.push({ stage: node.stage, ...(typeof node.indexName === 'string' ? { indexName: node.indexName } : {}) });
    for (const [key, value] of Object.entries(node)) if (key !== 'rejectedPlans') stagesOf(value, found);
  }
  return found;
}

describe('MongoDB store query plans', { skip: realMongoUrl === undefined ? 'needs MONGO_URL (a real replica set)' : false }, () => {
  const url = withDatabase(realMongoUrl ?? 'mongodb://unused', `cumulus_plans_${randomId(8)}`);
  let opened: OpenedStores;
  let client: MongoClient;

  before(async () => {
    opened = await openMongoStores(url, ['queue'], { logger: createLogger('silent') });
    const store = opened.stores.get('queue');
    assert.ok(store !== undefined);
    // Enough jobs in every status that a plan is chosen on data, not on an empty collection.
    const statuses = ['waiting', 'ready', 'running', 'completed', 'failed'] as const;
    await store.transaction(async (tx) => {
      for (let n = 0; n < 500; n += 1) {
        const status = statuses[n % statuses.length] ?? 'waiting';
        await tx.insert(
          makeJob({
            type: `t${n % 7}`,
            status,
            priority: n % 3,
            after: new Date(Date.now() + (n % 11) * 1000),
            ...(status === 'running' ? { runId: `r${n}`, expiresAfter: new Date(Date.now() + n) } : {}),
            ...(n % 13 === 0 ? { depends: [`a${n}`] } : {}),
          }),
          [],
        );
      }
    });
    client = new MongoClient(url);
  });

  after(async () => {
    await opened.close();
    await client.db().dropDatabase();
    await client.close();
  });

  const jobs = () => client.db().collection('queue.jobs');
  const assertIndexed = (explained: Document, index: string) => {
    const stages = stagesOf(explained.queryPlanner?.winningPlan ?? explained);
    assert.ok(!stages.some((stage) => stage.stage === 'COLLSCAN'), `no collection scan: ${JSON.stringify(stages)}`);
    assert.ok(stages.some((stage) => stage.indexName === index), `uses ${index}: ${JSON.stringify(stages)}`);
  };
  const now = new Date();

  it('claims (nextReady) on `claim`, merging the types in claim order', async () => {
    const plan = await jobs().find({ status: 'ready', runId: null, type: { $in: ['t1', 't2'] } }).sort(claimSort).limit(10).explain();
    assertIndexed(plan, 'claim');
    assert.ok(!stagesOf(plan.queryPlanner?.winningPlan).some((stage) => stage.stage === 'SORT'), 'no in-memory sort');
  });

  it('promotes (promotable, nextPromotionTime) on `promote`', async () => {
    assertIndexed(await jobs().find({ status: 'waiting', after: { $lte: now }, depends: { $size: 0 } }).sort({ after: 1, _seq: 1 }).explain(), 'promote');
    assertIndexed(await jobs().find({ status: 'waiting', depends: { $size: 0 } }).sort({ after: 1 }).limit(1).explain(), 'promote');
  });

  it('expires leases on `expire`', async () => {
    assertIndexed(await jobs().find({ status: 'running', expiresAfter: { $lt: now } }).sort({ expiresAfter: 1, _seq: 1 }).explain(), 'expire');
  });

  it('finds dependents on `depends`', async () => {
    assertIndexed(await jobs().find({ depends: { $in: ['a13', 'a26'] } }).sort({ _seq: 1 }).explain(), 'depends');
  });

  it('lists by activity on `recent` and by creation on `created`', async () => {
    assertIndexed(await jobs().find({}).sort({ updated: -1, _id: -1 }).limit(50).explain(), 'recent');
    assertIndexed(await jobs().find({}).sort({ created: 1, _seq: 1 }).limit(50).explain(), 'created');
    assertIndexed(await jobs().find({}).sort({ created: -1, _id: -1 }).limit(50).explain(), 'newest');
    assertIndexed(await jobs().find({}).sort({ priority: 1, created: -1, _id: -1 }).limit(50).explain(), 'priority');
  });

  it('searches words on `words`', async () => {
    assertIndexed(await jobs().find({ _words: { $all: [/^t3/] } }).sort({ _seq: -1 }).limit(50).explain(), 'words');
  });

  it('counts on `type_status`', async () => {
    const explained = await jobs()
      .aggregate([{ $sort: { type: 1, status: 1 } }, { $group: { _id: { type: '$type', status: '$status' }, n: { $sum: 1 } } }])
      .explain();
    assertIndexed(explained.stages?.[0]?.$cursor ?? explained, 'type_status');
  });

  it("finds a job's chains on `parent`", async () => {
    const plan = await client.db().collection('queue.chains').find({ parent: 'p' }).sort({ _seq: 1 }).explain();
    assertIndexed(plan, 'parent');
  });
});
