/**
 * The part of the official `mongodb` driver the MongoDB store uses, as narrow interfaces: the
 * store is written against these, a real `MongoClient` satisfies them (checked where the store
 * is opened), and the tests' in-memory backend implements them over real query and update
 * documents. Keeping the surface small keeps that backend honest.
 */
import type { Document } from 'mongodb';

export interface SessionLike {
  /** The logical session id; change events of this session's transactions carry it as `lsid`. */
  readonly id?: { id: { toString(encoding: 'hex'): string } } | undefined;
  startTransaction(options?: Document): void;
  commitTransaction(): Promise<unknown>;
  abortTransaction(): Promise<unknown>;
  endSession(): Promise<void>;
}

export interface CursorLike<T> {
  toArray(): Promise<T[]>;
}

export interface ReadOptionsLike {
  session?: SessionLike;
  projection?: Document;
}

export interface FindOptionsLike extends ReadOptionsLike {
  sort?: Document;
  limit?: number;
}

export interface ChangeEventLike {
  _id: unknown;
  operationType: string;
  documentKey?: { _id: unknown };
  fullDocument?: Document | null;
  fullDocumentBeforeChange?: Document | null;
  lsid?: { id: { toString(encoding: 'hex'): string } };
  txnNumber?: unknown;
}

export interface ChangeStreamLike {
  on(event: 'change', listener: (event: ChangeEventLike) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  readonly resumeToken: unknown;
  close(): Promise<void>;
}

export interface CollectionLike {
  readonly collectionName: string;
  findOne(filter: Document, options?: ReadOptionsLike): Promise<Document | null>;
  find(filter: Document, options?: FindOptionsLike): CursorLike<Document>;
  insertOne(doc: Document, options?: { session?: SessionLike }): Promise<unknown>;
  updateOne(filter: Document, update: Document | Document[], options?: { session?: SessionLike; upsert?: boolean }): Promise<{ matchedCount: number; upsertedCount: number }>;
  findOneAndUpdate(
    filter: Document,
    update: Document | Document[],
    options: { session?: SessionLike; projection?: Document; upsert?: boolean; returnDocument: 'before' | 'after'; includeResultMetadata: false },
  ): Promise<Document | null>;
  findOneAndDelete(filter: Document, options: { session?: SessionLike; projection?: Document; includeResultMetadata: false }): Promise<Document | null>;
  deleteMany(filter: Document, options?: { session?: SessionLike }): Promise<{ deletedCount: number }>;
  aggregate(pipeline: Document[], options?: { session?: SessionLike }): CursorLike<Document>;
  watch(pipeline: Document[], options: Document): ChangeStreamLike;
  createIndex(keys: Document, options?: Document): Promise<string>;
  /** The collection's indexes: `{name, key, partialFilterExpression?, …}` each. */
  indexes(): Promise<Document[]>;
}

export interface DbLike {
  readonly databaseName: string;
  collection(name: string): CollectionLike;
  command(command: Document): Promise<Document>;
}

export interface ClientLike {
  db(name?: string): DbLike;
  startSession(): SessionLike;
  close(): Promise<void>;
}
