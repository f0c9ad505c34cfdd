/**
 * An in-memory MongoDB for the MongoDB store's tests, since no MongoDB server runs on the
 * machines this project is built on. It implements the narrow driver surface of
 * `server/store/mongo/mongo-api.ts` and evaluates real query, update, sort, projection and
 * aggregation documents with `mingo`; documents go through BSON on every write and read, so
 * the store sees the types the driver gives (Binary, Date, int/double).
 *
 * What it models, because the store's correctness rests on it:
 * - multi-document transactions per session: writes invisible to others until commit; a write
 *   to a document another transaction holds, or that was committed after this transaction
 *   started, fails with WriteConflict (label TransientTransactionError) and aborts it;
 *   any error inside a transaction aborts it, as the server does;
 * - change streams per collection with `$match` pipelines, resume tokens (`resumeAfter`),
 *   pre- and post-images, and `lsid`/`txnNumber` on events of transactions;
 * - faults: the whole "server" unreachable, and change streams killed (as a step-down may).
 *
 * What it does not model: indexes (a few lookup tables stand in for them; there is no query
 * planner), snapshot reads (a transaction reads the latest committed state plus its own writes;
 * conflicts are still detected at write time, as on a real server), write concern, the wire
 * protocol, and BSON order in aggregation comparisons with a missing value (mingo answers false
 * where MongoDB orders missing first: the store spells such cases out with `$ifNull`). The
 * real-server runs are in the CI workflow (`.github/workflows/ci.yml`).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { BSON, Binary, type Document } from 'mongodb';
import { aggregate, find, update as applyUpdate } from 'mingo';
import type {
  ChangeEventLike,
  ChangeStreamLike,
  ClientLike,
  CollectionLike,
  CursorLike,
  DbLike,
  FindOptionsLike,
  ReadOptionsLike,
  SessionLike,
} from '../../server/store/mongo/mongo-api.ts';

/** An error shaped as the driver's `MongoServerError`: a code, a code name and labels. */
export class MemoryMongoError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly errorLabels: string[];

  constructor(message: string, code: number, codeName: string, labels: string[] = []) {
    super(message);
    this.name = 'MongoServerError';
    this.code = code;
    this.codeName = codeName;
    this.errorLabels = labels;
  }

  hasErrorLabel(label: string): boolean {
    return this.errorLabels.includes(label);
  }
}

const clone = (doc: Document): Document => BSON.deserialize(BSON.serialize(doc));

/**
 * What the driver throws when no server can be selected: a `MongoServerSelectionError`, with
 * no error label (the driver labels only errors of a connection it had).
 */
function unreachable(message: string): MemoryMongoError {
  const error = new MemoryMongoError(message, 0, 'ServerSelectionError');
  error.name = 'MongoServerSelectionError';
  return error;
}

function keyOf(id: unknown): string {
  return typeof id === 'string' ? id : `bson:${Buffer.from(BSON.serialize({ id })).toString('hex')}`;
}

/** Fields with a lookup table, so a query naming one of them does not scan every document. */
const lookupFields = ['status', 'type', 'depends'] as const;

function lookupKeys(value: unknown): string[] {
  const values = Array.isArray(value) ? value : [value];
  return values.filter((item) => typeof item === 'string').map((item) => item as string);
}

class CollectionData {
  readonly docs = new Map<string, Document>();
  /** For each lookup field, its string values (each element of an array) to document keys. */
  readonly lookups = new Map<string, Map<string, Set<string>>>(lookupFields.map((field) => [field, new Map()]));
  /** The commit sequence number of the last write of each key (kept after deletion). */
  readonly lastWrite = new Map<string, number>();
  readonly indexes: Document[] = [];
  preAndPostImages = false;

  constructor(readonly db: string, readonly name: string) {}

  put(key: string, doc: Document | null): void {
    const old = this.docs.get(key);
    if (old !== undefined) this.#index(key, old, false);
    if (doc === null) this.docs.delete(key);
    else {
      this.docs.set(key, doc);
      this.#index(key, doc, true);
    }
  }

  #index(key: string, doc: Document, add: boolean): void {
    for (const [field, table] of this.lookups) {
      for (const value of lookupKeys(doc[field])) {
        let keys = table.get(value);
        if (keys === undefined) {
          if (!add) continue;
          table.set(value, (keys = new Set()));
        }
        if (add) keys.add(key);
        else keys.delete(key);
      }
    }
  }
}

interface PendingWrite {
  data: CollectionData;
  key: string;
  before: Document | null;
  after: Document | null;
}

/** One transaction, explicit (a session's) or implicit (one operation outside a session). */
class TransactionState {
  readonly writes = new Map<string, PendingWrite>();
  aborted: MemoryMongoError | undefined;

  constructor(
    readonly snapshot: number,
    readonly session: MemorySession | undefined,
    readonly txnNumber: number,
  ) {}

  pending(data: CollectionData, key: string): PendingWrite | undefined {
    return this.writes.get(`${data.db}.${data.name}\0${key}`);
  }
}

interface LoggedEvent {
  position: number;
  db: string;
  coll: string;
  event: ChangeEventLike & { fullDocument?: Document | null; fullDocumentBeforeChange?: Document | null };
}

/** The "server": its databases, its change log, and the faults a test may inject. */
export class MemoryMongo {
  readonly #databases = new Map<string, Map<string, CollectionData>>();
  readonly #locks = new Map<string, TransactionState>();
  readonly #log: LoggedEvent[] = [];
  readonly #streams = new Set<MemoryChangeStream>();
  #seq = 0;
  #reachable = true;
  /** Whether `hello` reports a replica set (change streams and transactions need one). */
  replicaSet = true;

  client(): MemoryMongoClient {
    return new MemoryMongoClient(this);
  }

  /** While unreachable, every operation fails as a lost network connection does. */
  setReachable(reachable: boolean): void {
    this.#reachable = reachable;
  }

  /** Ends every open change stream with an error, as a primary stepping down may. */
  failChangeStreams(): void {
    for (const stream of [...this.#streams]) stream.fail(new MemoryMongoError('interrupted: primary stepped down', 11602, 'InterruptedDueToReplStateChange'));
  }

  /** Ends every open change stream without an error, as the server does when their collection goes. */
  endChangeStreams(): void {
    for (const stream of [...this.#streams]) stream.end();
  }

  /** The documents of a collection as stored, for assertions. */
  documents(db: string, coll: string): Document[] {
    return [...(this.#databases.get(db)?.get(coll)?.docs.values() ?? [])].map(clone);
  }

  indexes(db: string, coll: string): Document[] {
    return [...(this.data(db, coll).indexes)];
  }

  /** @internal */
  data(db: string, coll: string): CollectionData {
    let colls = this.#databases.get(db);
    if (colls === undefined) this.#databases.set(db, (colls = new Map()));
    let data = colls.get(coll);
    if (data === undefined) colls.set(coll, (data = new CollectionData(db, coll)));
    return data;
  }

  /** @internal */
  check(): void {
    if (!this.#reachable) {
      throw unreachable('connection refused: the in-memory server is unreachable');
    }
  }

  /** @internal */
  begin(session: MemorySession | undefined, txnNumber: number): TransactionState {
    return new TransactionState(this.#seq, session, txnNumber);
  }

  /** @internal The documents a transaction sees: the committed ones, with its own writes over them. */
  visible(tx: TransactionState, data: CollectionData): Document[] {
    if (tx.writes.size === 0) return [...data.docs.values()];
    const docs: Document[] = [];
    for (const [key, doc] of data.docs) {
      const pending = tx.pending(data, key);
      if (pending === undefined) docs.push(doc);
      else if (pending.after !== null) docs.push(pending.after);
    }
    for (const pending of tx.writes.values()) {
      if (pending.data === data && pending.after !== null && !data.docs.has(pending.key)) docs.push(pending.after);
    }
    return docs;
  }

  /** @internal */
  current(tx: TransactionState, data: CollectionData, key: string): Document | null {
    const pending = tx.pending(data, key);
    return pending === undefined ? (data.docs.get(key) ?? null) : pending.after;
  }

  /** @internal Records a write in `tx`, or fails it with a write conflict. */
  write(tx: TransactionState, data: CollectionData, key: string, after: Document | null): void {
    const lockKey = `${data.db}.${data.name}\0${key}`;
    const holder = this.#locks.get(lockKey);
    if ((holder !== undefined && holder !== tx) || (data.lastWrite.get(key) ?? -1) > tx.snapshot) {
      throw this.abort(tx, new MemoryMongoError('WriteConflict error: this operation conflicted with another operation', 112, 'WriteConflict', ['TransientTransactionError']));
    }
    this.#locks.set(lockKey, tx);
    const pending = tx.writes.get(lockKey);
    if (pending === undefined) tx.writes.set(lockKey, { data, key, before: data.docs.get(key) ?? null, after });
    else pending.after = after;
  }

  /** @internal Aborts `tx` because of `error` (any error aborts a transaction) and returns the error. */
  abort(tx: TransactionState, error: MemoryMongoError): MemoryMongoError {
    if (tx.aborted === undefined) {
      tx.aborted = error;
      this.#release(tx);
    }
    return error;
  }

  /** @internal Applies the writes of `tx` at once, then tells the change streams. */
  commit(tx: TransactionState): void {
    if (tx.aborted !== undefined) {
      throw new MemoryMongoError('Transaction has been aborted.', 251, 'NoSuchTransaction', ['TransientTransactionError']);
    }
    this.#seq += 1;
    const seq = this.#seq;
    const events: LoggedEvent[] = [];
    for (const { data, key, before, after } of tx.writes.values()) {
      data.put(key, after);
      data.lastWrite.set(key, seq);
      const operationType = before === null ? (after === null ? undefined : 'insert') : after === null ? 'delete' : 'update';
      if (operationType === undefined) continue;
      const position = this.#log.length;
      const event = {
        _id: { _data: String(position) },
        operationType,
        documentKey: { _id: (after ?? before)?._id },
        fullDocument: after,
        fullDocumentBeforeChange: before,
        ...(tx.session === undefined ? {} : { lsid: { id: tx.session.id.id }, txnNumber: tx.txnNumber }),
      };
      events.push({ position, db: data.db, coll: data.name, event });
      this.#log.push(events.at(-1) as LoggedEvent);
    }
    this.#release(tx);
    if (events.length > 0) for (const stream of this.#streams) stream.deliver(events);
  }

  /** @internal */
  openStream(data: CollectionData, pipeline: Document[], options: Document): MemoryChangeStream {
    const stream = new MemoryChangeStream(this, data, pipeline, options);
    this.#streams.add(stream);
    const token = (options.resumeAfter ?? options.startAfter) as { _data?: string } | undefined;
    if (token !== undefined) {
      const from = Number(token._data) + 1;
      if (!Number.isInteger(from) || from > this.#log.length) {
        queueMicrotask(() => stream.fail(new MemoryMongoError('cannot resume: the resume token is not in the log', 286, 'ChangeStreamHistoryLost')));
      } else {
        stream.deliver(this.#log.slice(from));
      }
    }
    return stream;
  }

  /** @internal */
  closeStream(stream: MemoryChangeStream): void {
    this.#streams.delete(stream);
  }

  #release(tx: TransactionState): void {
    for (const [lockKey, holder] of this.#locks) if (holder === tx) this.#locks.delete(lockKey);
  }
}

export class MemoryMongoClient implements ClientLike {
  #closed = false;
  #reachable = true;

  constructor(readonly server: MemoryMongo) {}

  /** While unreachable, this client's operations fail as if its network were cut (a partitioned server). */
  setReachable(reachable: boolean): void {
    this.#reachable = reachable;
  }

  db(name = 'test'): MemoryDb {
    return new MemoryDb(this, name);
  }

  startSession(): MemorySession {
    return new MemorySession(this);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** @internal */
  check(): void {
    if (this.#closed) throw new MemoryMongoError('Client must be connected before running operations', 0, 'MongoNotConnectedError');
    if (!this.#reachable) {
      throw unreachable('connection timed out: this client is cut off');
    }
    this.server.check();
  }
}

export class MemoryDb implements DbLike {
  constructor(readonly client: MemoryMongoClient, readonly databaseName: string) {}

  collection(name: string): MemoryCollection {
    return new MemoryCollection(this, name);
  }

  async command(command: Document): Promise<Document> {
    this.client.check();
    if ('hello' in command || 'isMaster' in command) {
      return { isWritablePrimary: true, ...(this.client.server.replicaSet ? { setName: 'rs0' } : {}), ok: 1 };
    }
    if ('ping' in command) return { ok: 1 };
    if ('collMod' in command || 'create' in command) {
      const data = this.client.server.data(this.databaseName, String(command.collMod ?? command.create));
      const images = command.changeStreamPreAndPostImages as { enabled?: boolean } | undefined;
      if (images !== undefined) data.preAndPostImages = images.enabled === true;
      return { ok: 1 };
    }
    throw new MemoryMongoError(`no such command: '${Object.keys(command)[0]}'`, 59, 'CommandNotFound');
  }
}

class ArrayCursor implements CursorLike<Document> {
  constructor(readonly produce: () => Document[]) {}

  async toArray(): Promise<Document[]> {
    return this.produce();
  }
}

export class MemoryCollection implements CollectionLike {
  readonly #db: MemoryDb;
  readonly collectionName: string;

  constructor(db: MemoryDb, name: string) {
    this.#db = db;
    this.collectionName = name;
  }

  get #server(): MemoryMongo {
    return this.#db.client.server;
  }

  get #data(): CollectionData {
    return this.#server.data(this.#db.databaseName, this.collectionName);
  }

  async findOne(filter: Document, options: ReadOptionsLike = {}): Promise<Document | null> {
    const [doc] = this.#query(filter, { ...options, limit: 1 });
    return doc ?? null;
  }

  find(filter: Document, options: FindOptionsLike = {}): CursorLike<Document> {
    return new ArrayCursor(() => this.#query(filter, options));
  }

  async insertOne(doc: Document, options: { session?: SessionLike } = {}): Promise<unknown> {
    return this.#run(options.session, (tx) => {
      const stored = clone(doc);
      const key = keyOf(stored._id);
      if (this.#server.current(tx, this.#data, key) !== null) {
        throw new MemoryMongoError(
          `E11000 duplicate key error collection: ${this.#db.databaseName}.${this.collectionName} index: _id_ dup key: { _id: ${JSON.stringify(stored._id)} }`,
          11000,
          'DuplicateKey',
        );
      }
      this.#server.write(tx, this.#data, key, stored);
      return { acknowledged: true, insertedId: stored._id };
    });
  }

  async updateOne(
    filter: Document,
    update: Document | Document[],
    options: { session?: SessionLike; upsert?: boolean } = {},
  ): Promise<{ matchedCount: number; upsertedCount: number }> {
    return this.#run(options.session, (tx) => {
      if (options.upsert === true) refuseExprInUpsert(filter);
      const [found] = this.#matching(tx, filter, {}, 1);
      if (found !== undefined) {
        this.#write(tx, found, update);
        return { matchedCount: 1, upsertedCount: 0 };
      }
      if (options.upsert !== true) return { matchedCount: 0, upsertedCount: 0 };
      this.#upsert(tx, filter, update);
      return { matchedCount: 0, upsertedCount: 1 };
    });
  }

  async findOneAndUpdate(
    filter: Document,
    update: Document | Document[],
    options: { session?: SessionLike; projection?: Document; upsert?: boolean; returnDocument: 'before' | 'after'; includeResultMetadata: false },
  ): Promise<Document | null> {
    return this.#run(options.session, (tx) => {
      if (options.upsert === true) refuseExprInUpsert(filter);
      const [found] = this.#matching(tx, filter, {}, 1);
      if (found === undefined) {
        if (options.upsert !== true) return null;
        const inserted = this.#upsert(tx, filter, update);
        return options.returnDocument === 'after' ? project(inserted, options.projection) : null;
      }
      const after = this.#write(tx, found, update);
      return project(options.returnDocument === 'after' ? after : found, options.projection);
    });
  }

  async findOneAndDelete(filter: Document, options: { session?: SessionLike; projection?: Document; includeResultMetadata: false }): Promise<Document | null> {
    return this.#run(options.session, (tx) => {
      const [found] = this.#matching(tx, filter, {}, 1);
      if (found === undefined) return null;
      this.#server.write(tx, this.#data, keyOf(found._id), null);
      return project(found, options.projection);
    });
  }

  async deleteMany(filter: Document, options: { session?: SessionLike } = {}): Promise<{ deletedCount: number }> {
    return this.#run(options.session, (tx) => {
      const found = this.#matching(tx, filter, {});
      for (const doc of found) this.#server.write(tx, this.#data, keyOf(doc._id), null);
      return { deletedCount: found.length };
    });
  }

  aggregate(pipeline: Document[], options: { session?: SessionLike } = {}): CursorLike<Document> {
    return new ArrayCursor(() =>
      this.#read(options.session, (tx) => aggregate(this.#server.visible(tx, this.#data), pipeline).map((doc) => clone(doc))),
    );
  }

  watch(pipeline: Document[], options: Document): ChangeStreamLike {
    this.#db.client.check();
    return this.#server.openStream(this.#data, pipeline, options);
  }

  /**
   * As the server: the same index again is a no-op; the same keys under another name, or the
   * same name with other keys, are refused (IndexOptionsConflict 85, IndexKeySpecsConflict 86).
   */
  async createIndex(keys: Document, options: Document = {}): Promise<string> {
    this.#db.client.check();
    const name = String(options.name ?? Object.entries(keys).map(([field, order]) => `${field}_${String(order)}`).join('_'));
    const sameKeys = (index: Document) => JSON.stringify(index.key) === JSON.stringify(keys) && JSON.stringify(index.partialFilterExpression) === JSON.stringify(options.partialFilterExpression);
    const named = this.#data.indexes.find((index) => index.name === name);
    if (named !== undefined) {
      if (!sameKeys(named)) throw new MemoryMongoError(`An existing index has the same name as the requested index: ${name}`, 86, 'IndexKeySpecsConflict');
      return name;
    }
    const other = this.#data.indexes.find(sameKeys);
    if (other !== undefined) throw new MemoryMongoError(`Index already exists with a different name: ${String(other.name)}`, 85, 'IndexOptionsConflict');
    this.#data.indexes.push({ key: keys, ...options, name });
    return name;
  }

  async indexes(): Promise<Document[]> {
    this.#db.client.check();
    return [{ key: { _id: 1 }, name: '_id_' }, ...this.#data.indexes].map((index) => clone(index));
  }

  #query(filter: Document, options: FindOptionsLike): Document[] {
    return this.#read(options.session, (tx) =>
      this.#matching(tx, filter, options.sort ?? {}, options.limit).map((doc) => project(doc, options.projection)),
    );
  }

  /** Matching documents (not copies: never mutate them) in sort order. */
  #matching(tx: TransactionState, filter: Document, sort: Document, limit?: number): Document[] {
    let cursor = find(this.#candidates(tx, filter), filter);
    if (Object.keys(sort).length > 0) cursor = cursor.sort(sort);
    if (limit !== undefined && limit > 0) cursor = cursor.limit(limit);
    return cursor.all() as Document[];
  }

  /**
   * The documents that may match: by `_id`, or through a lookup field the filter names with a
   * string or `$in` of strings; otherwise every visible document. The filter is applied after.
   */
  #candidates(tx: TransactionState, filter: Document): Document[] {
    const data = this.#data;
    const idValues = plainValues(filter._id, false);
    if (idValues !== undefined) {
      return idValues.map((id) => this.#server.current(tx, data, keyOf(id))).filter((doc) => doc !== null);
    }
    for (const field of lookupFields) {
      const values = plainValues(filter[field], true);
      if (values === undefined) continue;
      const keys = new Set<string>();
      for (const value of values) for (const key of data.lookups.get(field)?.get(value as string) ?? []) keys.add(key);
      for (const pending of tx.writes.values()) if (pending.data === data) keys.add(pending.key);
      return [...keys].map((key) => this.#server.current(tx, data, key)).filter((doc) => doc !== null);
    }
    return this.#server.visible(tx, data);
  }

  /** Inserts what an upsert that matched nothing inserts: the filter's equalities, updated. */
  #upsert(tx: TransactionState, filter: Document, update: Document | Document[]): Document {
    const seed = Object.fromEntries(Object.entries(filter).filter(([field, value]) => !field.startsWith('$') && !isOperator(value)));
    const inserted = clone(updated(clone(seed), update));
    const key = keyOf(inserted._id);
    if (this.#server.current(tx, this.#data, key) !== null) {
      throw new MemoryMongoError(`E11000 duplicate key error collection: ${this.collectionName} index: _id_`, 11000, 'DuplicateKey');
    }
    this.#server.write(tx, this.#data, key, inserted);
    return inserted;
  }

  /** Applies an update document to a copy of `found`, records it, and returns the copy. */
  #write(tx: TransactionState, found: Document, update: Document | Document[]): Document {
    const after = updated(clone(found), update);
    if (keyOf(after._id) !== keyOf(found._id)) {
      throw this.#server.abort(tx, new MemoryMongoError("Performing an update on the path '_id' would modify the immutable field '_id'", 66, 'ImmutableField'));
    }
    const stored = clone(after);
    this.#server.write(tx, this.#data, keyOf(found._id), stored);
    return stored;
  }

  #read<T>(session: SessionLike | undefined, read: (tx: TransactionState) => T): T {
    this.#db.client.check();
    const tx = session instanceof MemorySession ? session.transaction : undefined;
    return read(tx ?? this.#server.begin(undefined, 0));
  }

  /** Runs a write in the session's transaction, or alone (committed at once) without one. */
  #run<T>(session: SessionLike | undefined, write: (tx: TransactionState) => T): Promise<T> {
    try {
      this.#db.client.check();
      const open = session instanceof MemorySession ? session.transaction : undefined;
      if (open?.aborted !== undefined) throw open.aborted;
      const tx = open ?? this.#server.begin(undefined, 0);
      let value: T;
      try {
        value = write(tx);
      } catch (error) {
        // Any error inside a transaction aborts it, as on a real server.
        if (error instanceof MemoryMongoError) this.#server.abort(tx, error);
        throw error;
      }
      if (open === undefined) this.#server.commit(tx);
      return Promise.resolve(value);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
}

/** `doc` after an update document or (MongoDB 4.2+) an update pipeline. */
function updated(doc: Document, update: Document | Document[]): Document {
  if (Array.isArray(update)) return (aggregate([doc], update)[0] as Document | undefined) ?? {};
  applyUpdate(doc, update);
  return doc;
}

/** The values a condition asks for by equality or `$in` (strings only, for lookups), if it is one. */
function plainValues(condition: unknown, stringsOnly: boolean): unknown[] | undefined {
  if (condition === undefined) return undefined;
  const ok = (value: unknown) => (stringsOnly ? typeof value === 'string' : value !== null && !isOperator(value) && typeof value !== 'object');
  if (!isOperator(condition)) return ok(condition) ? [condition] : undefined;
  const keys = Object.keys(condition as Document);
  const list = (condition as Document).$in as unknown;
  if (keys.length === 1 && Array.isArray(list) && list.every(ok)) return list;
  return undefined;
}

/** MongoDB refuses an upsert whose filter uses `$expr` (QueryFeatureNotAllowed), matched or not. */
function refuseExprInUpsert(filter: Document): void {
  if ('$expr' in filter) throw new MemoryMongoError('$expr is not allowed in the query predicate for an upsert', 224, 'QueryFeatureNotAllowed');
}

function isOperator(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !(value instanceof Date) && Object.keys(value).some((key) => key.startsWith('$'));
}

/**
 * A copy of `doc` with a projection applied: top-level inclusions or exclusions (all the store
 * uses) directly, anything else through mingo, which is much slower per document.
 */
function project(doc: Document, projection: Document | undefined): Document {
  const fields = Object.entries(projection ?? {});
  if (fields.length === 0) return clone(doc);
  if (fields.every(([field, value]) => !field.includes('.') && (value === 0 || value === 1))) {
    const including = fields.some(([field, value]) => value === 1 && field !== '_id');
    const named = new Map(fields);
    const kept: Document = {};
    for (const [field, value] of Object.entries(doc)) {
      const keep = field === '_id' ? named.get('_id') !== 0 : including ? named.get(field) === 1 : named.get(field) !== 0;
      if (keep) kept[field] = value;
    }
    return clone(kept);
  }
  const [projected] = find([doc], {}, projection).all() as Document[];
  return clone(projected ?? {});
}

export class MemorySession implements SessionLike {
  readonly id = { id: new Binary(randomBytes(16), Binary.SUBTYPE_UUID) };
  readonly #client: MemoryMongoClient;
  readonly #server: MemoryMongo;
  #txnNumber = 0;
  #transaction: TransactionState | undefined;

  constructor(client: MemoryMongoClient) {
    this.#client = client;
    this.#server = client.server;
  }

  /** @internal */
  get transaction(): TransactionState | undefined {
    return this.#transaction;
  }

  startTransaction(): void {
    if (this.#transaction !== undefined) throw new MemoryMongoError('Transaction already in progress', 256, 'TransactionInProgress');
    this.#txnNumber += 1;
    this.#transaction = this.#server.begin(this, this.#txnNumber);
  }

  async commitTransaction(): Promise<void> {
    const tx = this.#transaction;
    if (tx === undefined) throw new MemoryMongoError('No transaction started', 251, 'NoSuchTransaction');
    this.#client.check();
    this.#transaction = undefined;
    this.#server.commit(tx);
  }

  async abortTransaction(): Promise<void> {
    const tx = this.#transaction;
    this.#transaction = undefined;
    if (tx !== undefined) this.#server.abort(tx, new MemoryMongoError('Transaction aborted', 251, 'NoSuchTransaction'));
  }

  async endSession(): Promise<void> {
    await this.abortTransaction();
  }
}

/** A change stream over one collection: events after it was opened (or after its resume token). */
export class MemoryChangeStream extends EventEmitter implements ChangeStreamLike {
  readonly #server: MemoryMongo;
  readonly #data: CollectionData;
  readonly #pipeline: Document[];
  readonly #options: Document;
  #resumeToken: unknown;
  #closed = false;

  constructor(server: MemoryMongo, data: CollectionData, pipeline: Document[], options: Document) {
    super();
    this.#server = server;
    this.#data = data;
    this.#options = options;
    this.#pipeline = pipeline;
    this.#resumeToken = options.resumeAfter ?? options.startAfter;
  }

  get resumeToken(): unknown {
    return this.#resumeToken;
  }

  /** @internal */
  deliver(events: readonly LoggedEvent[]): void {
    const mine = events.filter((logged) => logged.db === this.#data.db && logged.coll === this.#data.name);
    if (mine.length === 0) return;
    // Asynchronously, as events arrive from a server.
    setImmediate(() => {
      for (const { event } of mine) {
        if (this.#closed) return;
        this.#resumeToken = event._id;
        // The stream's own pipeline ($match, $project, …) applied to each event, as the server does.
        const [shaped] = aggregate([this.#shape(event) as unknown as Document], this.#pipeline) as unknown as ChangeEventLike[];
        if (shaped !== undefined) this.emit('change', shaped);
      }
    });
  }

  /** @internal */
  fail(error: MemoryMongoError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.closeStream(this);
    this.emit('error', error);
    this.emit('close');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.closeStream(this);
    this.emit('close');
  }

  /** Ends the stream from the server's side without an error (a dropped collection, say). */
  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.closeStream(this);
    this.emit('close');
  }

  #shape(event: LoggedEvent['event']): ChangeEventLike {
    const { fullDocument, fullDocumentBeforeChange, ...rest } = event;
    const post = this.#options.fullDocument as string | undefined;
    const pre = this.#options.fullDocumentBeforeChange as string | undefined;
    const images = this.#data.preAndPostImages;
    const shaped: ChangeEventLike = { ...rest };
    if (event.operationType === 'insert' || (post !== undefined && post !== 'default' && (images || post === 'updateLookup'))) {
      if (event.operationType !== 'delete') shaped.fullDocument = fullDocument === null || fullDocument === undefined ? null : clone(fullDocument);
    }
    if (pre !== undefined && pre !== 'off' && images && event.operationType !== 'insert') {
      shaped.fullDocumentBeforeChange = fullDocumentBeforeChange === null || fullDocumentBeforeChange === undefined ? null : clone(fullDocumentBeforeChange);
    }
    return shaped;
  }
}
