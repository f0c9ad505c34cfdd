/**
 * `JobTransaction` inside a MongoDB multi-document transaction: every read and write passes
 * the session, so reads see the transaction's own writes, other servers see nothing until the
 * commit, and a job another server changed meanwhile makes the write fail with a write
 * conflict (the commit queue then runs the batch again). Guards are part of the update's
 * filter, so a compare-and-set is one round trip.
 */
import type { Document } from 'mongodb';
import { emptyCounts, type AnalyticsPeriod, type AnalyticsResolution } from '../../../shared/analytics.ts';
import type { ChainStatus } from '../../../shared/chains.ts';
import type { JobStatus } from '../../../shared/constants.ts';
import { jobDocKeys, type JobLogEntry } from '../../../shared/job-doc.ts';
import type { ChangeRecorder } from '../change-collector.ts';
import { mergeChanges } from '../job-changes.ts';
import { changesWords, searchWords } from '../search-words.ts';
import type { ChainChanges, JobChanges, JobFilter, JobTransaction, StoredChain, StoredJob, UpdateGuard } from '../job-store.ts';
import type { CollectionLike, SessionLike } from './mongo-api.ts';
import { chainDocument, chainFromDocument, jobDocument, jobFromDocument, shapeProblem, toMongoValue } from './job-document.ts';

/** What a transaction shares with its store: collections, insertion order, bad documents. */
export interface MongoCollections {
  jobs: CollectionLike;
  chains: CollectionLike;
  analytics: CollectionLike;
  /** The next insertion-order number (`_seq`). */
  nextSeq(): number;
  /** Documents that are not jobs, by id text: their ids as stored, left out of claims. */
  readonly skipped: ReadonlyMap<string, unknown>;
  /** Called with a stored document that cannot be served as a job. */
  skip(id: unknown, problem: string): void;
}

/** What a job read leaves out: the log (only ever grows) and the search words. */
export const withoutLog = { log: 0, _words: 0 } as const;

/** Claim order: priority, retryUntil, after, created, then insertion. */
export const claimSort = { priority: 1, retryUntil: 1, after: 1, created: 1, _seq: 1 } as const;

/** The MongoDB filter of a typed job filter (an empty list matches nothing, as `$in: []`). */
export function jobSelector(filter: JobFilter): Document {
  return {
    ...(filter.ids === undefined ? {} : { _id: { $in: [...filter.ids] } }),
    ...(filter.types === undefined ? {} : { type: { $in: [...filter.types] } }),
    ...(filter.statuses === undefined ? {} : { status: { $in: [...filter.statuses] } }),
  };
}

export class MongoTransaction implements JobTransaction {
  readonly #collections: MongoCollections;
  readonly #session: SessionLike;
  readonly #recorder: ChangeRecorder;
  #open = true;

  constructor(collections: MongoCollections, session: SessionLike, recorder: ChangeRecorder) {
    this.#collections = collections;
    this.#session = session;
    this.#recorder = recorder;
  }

  /** Called when the work has settled: a transaction kept past it must not write into the next one. */
  end(): void {
    this.#open = false;
  }

  #check(): void {
    if (!this.#open) throw new Error('This transaction has ended; its work must await every call it makes');
  }

  get #jobs(): CollectionLike {
    this.#check();
    return this.#collections.jobs;
  }

  get #chains(): CollectionLike {
    this.#check();
    return this.#collections.chains;
  }

  async get(id: string): Promise<StoredJob | undefined> {
    const doc = await this.#jobs.findOne({ _id: id }, { session: this.#session, projection: withoutLog });
    return doc === null ? undefined : this.#job(doc);
  }

  async find(filter: JobFilter): Promise<StoredJob[]> {
    return this.#jobsOf(jobSelector(filter), { _seq: 1 });
  }

  async insert(job: StoredJob, log: readonly JobLogEntry[]): Promise<void> {
    await this.#jobs.insertOne(jobDocument(job, log, this.#collections.nextSeq()), { session: this.#session });
    this.#recorder.record(job._id, job.type, null, job.status, job);
  }

  async update(id: string, changes: JobChanges, guard: UpdateGuard = {}): Promise<boolean> {
    if (guard.statuses?.length === 0) return false;
    const filter: Document = { _id: id };
    if (guard.statuses !== undefined) filter.status = { $in: [...guard.statuses] };
    if (guard.runId !== undefined) filter.runId = guard.runId;
    const update = orderedUpdate(changes);
    const before =
      update === undefined
        ? await this.#jobs.findOne(filter, { session: this.#session, projection: withoutLog })
        : await this.#jobs.findOneAndUpdate(filter, update, {
            session: this.#session,
            projection: withoutLog,
            returnDocument: 'before',
            includeResultMetadata: false,
          });
    if (before === null) return false;
    const job = jobFromDocument(before);
    const updated = mergeChanges(job, changes);
    if (changesWords(Object.keys(changes))) {
      const words = searchWords(updated);
      if (words.join(' ') !== searchWords(job).join(' ')) await this.#jobs.updateOne({ _id: id }, { $set: { _words: words } }, { session: this.#session });
    }
    this.#recorder.record(id, updated.type, job.status, updated.status, updated);
    return true;
  }

  async appendLog(id: string, entries: readonly JobLogEntry[]): Promise<void> {
    if (entries.length === 0) {
      this.#check();
      return;
    }
    const head = await this.#jobs.findOneAndUpdate(
      { _id: id },
      { $push: { log: { $each: entries.map(toMongoValue) } } },
      { session: this.#session, projection: { type: 1, status: 1 }, returnDocument: 'after', includeResultMetadata: false },
    );
    if (head === null) return;
    // Told to the feed with an unchanged status, so that a view of the log knows to refresh.
    this.#recorder.record(id, String(head.type), head.status as JobStatus, head.status as JobStatus);
  }

  async remove(ids: readonly string[]): Promise<number> {
    let removed = 0;
    for (const id of new Set(ids)) {
      const gone = await this.#jobs.findOneAndDelete({ _id: id }, { session: this.#session, projection: { type: 1, status: 1 }, includeResultMetadata: false });
      if (gone === null) continue;
      this.#recorder.record(id, String(gone.type), gone.status as JobStatus, null);
      removed += 1;
    }
    return removed;
  }

  async nextReady(types: readonly string[], limit: number, parents?: readonly string[]): Promise<StoredJob[]> {
    const count = Math.floor(limit);
    if (count <= 0 || types.length === 0) return [];
    const filter: Document = { status: 'ready', runId: null, type: { $in: [...new Set(types)] } };
    if (parents !== undefined) filter.parent = { $in: [...new Set(parents)] };
    return this.#jobsOf(filter, claimSort, count);
  }

  async dependentsOf(ids: readonly string[], statuses?: readonly JobStatus[]): Promise<StoredJob[]> {
    if (ids.length === 0) return [];
    const filter: Document = { depends: { $in: [...new Set(ids)] } };
    if (statuses !== undefined) filter.status = { $in: [...statuses] };
    return this.#jobsOf(filter, { _seq: 1 });
  }

  async promotable(time: Date, options: { ids?: readonly string[]; ignoreDepends: boolean; limit?: number }): Promise<StoredJob[]> {
    if (options.limit !== undefined && options.limit <= 0) return [];
    const filter: Document = { status: 'waiting', after: { $lte: time } };
    if (!options.ignoreDepends) filter.depends = { $size: 0 };
    if (options.ids !== undefined) filter._id = { $in: [...new Set(options.ids)] };
    return this.#jobsOf(filter, { after: 1, _seq: 1 }, options.limit);
  }

  async expired(time: Date): Promise<StoredJob[]> {
    return this.#jobsOf({ status: 'running', expiresAfter: { $lt: time } }, { expiresAfter: 1, _seq: 1 });
  }

  async insertChain(chain: StoredChain): Promise<void> {
    await this.#chains.insertOne({ ...chainDocument(chain), _seq: this.#collections.nextSeq() }, { session: this.#session });
  }

  async getChain(id: string): Promise<StoredChain | undefined> {
    const doc = await this.#chains.findOne({ _id: id }, { session: this.#session, projection: { _seq: 0 } });
    return doc === null ? undefined : chainFromDocument(doc);
  }

  async updateChain(id: string, changes: ChainChanges): Promise<boolean> {
    const update = updateDocument(changes);
    if (update === undefined) return (await this.getChain(id)) !== undefined;
    const result = await this.#chains.updateOne({ _id: id }, update, { session: this.#session });
    return result.matchedCount > 0;
  }

  async removeChain(id: string): Promise<boolean> {
    const gone = await this.#chains.findOneAndDelete({ _id: id }, { session: this.#session, projection: { _id: 1 }, includeResultMetadata: false });
    return gone !== null;
  }

  async chainsOf(parent: string, statuses?: readonly ChainStatus[]): Promise<StoredChain[]> {
    const filter: Document = { parent };
    if (statuses !== undefined) filter.status = { $in: [...statuses] };
    const docs = await this.#chains.find(filter, { session: this.#session, sort: { _seq: 1 }, projection: { _seq: 0 } }).toArray();
    return docs.map(chainFromDocument);
  }

  async addAnalytics(periods: readonly AnalyticsPeriod[]): Promise<void> {
    this.#check();
    for (const { resolution, type, at, completed, failed, retried, runTimes, runTimeTotalMs } of periods) {
      // Increments, so the counts of several servers add up whatever order they commit in.
      const increments: Document = { completed, failed, retried, runTimeTotalMs };
      for (const [index, count] of runTimes.entries()) if (count > 0) increments[`runTimes.${index}`] = count;
      await this.#collections.analytics.updateOne(
        { _id: `${resolution}|${at.getTime()}|${type}` },
        { $set: { resolution, at, type }, $inc: increments },
        { session: this.#session, upsert: true },
      );
    }
  }

  async pruneAnalytics(resolution: AnalyticsResolution, before: Date): Promise<void> {
    this.#check();
    await this.#collections.analytics.deleteMany({ resolution, at: { $lt: before } }, { session: this.#session });
  }

  /**
   * The jobs matching `filter` in `sort` order, up to `limit`, leaving out documents that are
   * not jobs: those are reported once and excluded from later queries, so a bad document at
   * the head of the queue never holds back the jobs behind it.
   */
  async #jobsOf(filter: Document, sort: Document, limit?: number): Promise<StoredJob[]> {
    for (;;) {
      const skipped = this.#collections.skipped;
      const query = skipped.size === 0 ? filter : { ...filter, _id: { ...asCondition(filter._id), $nin: [...skipped.values()] } };
      const docs = await this.#jobs.find(query, { session: this.#session, projection: withoutLog, sort, ...(limit === undefined ? {} : { limit }) }).toArray();
      const jobs: StoredJob[] = [];
      let bad = 0;
      for (const doc of docs) {
        const job = this.#job(doc);
        if (job === undefined) bad += 1;
        else jobs.push(job);
      }
      if (bad === 0 || limit === undefined) return jobs;
    }
  }

  #job(doc: Document): StoredJob | undefined {
    const problem = shapeProblem(doc);
    if (problem === undefined) return jobFromDocument(doc);
    this.#collections.skip(doc._id, problem);
    return undefined;
  }
}

function asCondition(value: unknown): Document {
  if (value === undefined) return {};
  if (typeof value === 'object' && value !== null && Object.keys(value).every((key) => key.startsWith('$'))) return value as Document;
  return { $eq: value };
}

const documentOrder = [...jobDocKeys.filter((key) => key !== 'log'), '_private'];

/**
 * The update of a job's changes as a pipeline that also keeps the document's keys in their
 * canonical places: `$set` would append a new key (`result`, `worker`, …) at the end, while a
 * job reads the same whichever way it was made. The first object lists every job key in order
 * (a key the document lacks is omitted, as aggregation omits a missing value), then the
 * document itself brings the keys a Meteor app may have added and `_seq`, then the changes
 * overwrite; removed keys go last. MongoDB 4.2+; the log is never read or rewritten.
 */
export function orderedUpdate(changes: JobChanges): Document[] | undefined {
  const entries = Object.entries(changes).filter(([key]) => key !== '_id');
  if (entries.length === 0) return undefined;
  const changed: Document = {};
  const removed: string[] = [];
  for (const [key, value] of entries) {
    if (value === undefined) removed.push(key);
    else changed[key] = { $literal: toMongoValue(value) };
  }
  const ordered: Document = {};
  for (const key of documentOrder) {
    ordered[key] = changed[key] ?? `$${key}`;
    // The log keeps its place before progress, as jobCollection has it.
    if (key === 'expiresAfter') ordered.log = '$log';
  }
  const pipeline: Document[] = [{ $replaceWith: { $mergeObjects: [ordered, '$$ROOT', changed] } }];
  if (removed.length > 0) pipeline.push({ $unset: removed });
  return pipeline;
}

/** `$set` for the values given, `$unset` for the keys set to undefined; undefined when nothing changes. */
export function updateDocument(changes: Record<string, unknown>): Document | undefined {
  const set: Document = {};
  const unset: Document = {};
  for (const [key, value] of Object.entries(changes)) {
    if (key === '_id') continue;
    if (value === undefined) unset[key] = '';
    else set[key] = toMongoValue(value);
  }
  const update: Document = {};
  if (Object.keys(set).length > 0) update.$set = set;
  if (Object.keys(unset).length > 0) update.$unset = unset;
  return Object.keys(update).length === 0 ? undefined : update;
}

/** A stored analytics period; its run-time buckets are kept as an object of indexes (`$inc` makes them so). */
export function analyticsFromDocument(doc: Document): AnalyticsPeriod {
  const counts = emptyCounts();
  const buckets = (doc.runTimes ?? {}) as Record<string, unknown>;
  for (const [index, count] of Object.entries(buckets)) {
    const at = Number(index);
    if (Number.isInteger(at) && at >= 0 && at < counts.runTimes.length && typeof count === 'number') counts.runTimes[at] = count;
  }
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  return {
    ...counts,
    completed: number(doc.completed),
    failed: number(doc.failed),
    retried: number(doc.retried),
    runTimeTotalMs: number(doc.runTimeTotalMs),
    type: String(doc.type),
    resolution: doc.resolution === 'hour' ? 'hour' : 'minute',
    at: doc.at instanceof Date ? doc.at : new Date(Number(doc.at)),
  };
}
