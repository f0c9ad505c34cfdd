/**
 * Writes made by other writers — other Cumulus servers on the same database, or a Meteor app
 * still using its jobCollection — reach this server's `onCommit` listeners through a change
 * stream on `<root>.jobs`. This server's own commits are told directly when they commit, so
 * events of its own sessions are skipped.
 *
 * Pre- and post-images (MongoDB 6.0+, enabled on the collection when the store opens) give each
 * event the job as it was and as it became, hence exact `previousStatus` and `doc`. When the
 * stream fails (a primary stepping down may end it after the driver's own resume), it is
 * opened again after its last resume token, so no event is lost; if the token is no longer in
 * the oplog, it starts afresh and says so.
 */
import type { Document } from 'mongodb';
import type { JobStatus } from '../../../shared/constants.ts';
import type { Logger } from '../../logger.ts';
import { collapseChanges } from '../change-collector.ts';
import type { JobChange } from '../job-store.ts';
import type { ChangeEventLike, ChangeStreamLike, CollectionLike } from './mongo-api.ts';
import { jobFromDocument, shapeProblem } from './job-document.ts';

export interface ChangeFollowerOptions {
  /** Hex ids of this server's sessions: their events were told already. */
  ownSessions: ReadonlySet<string>;
  /** Told the changes of other writers, collapsed per job, in the order they arrived. */
  deliver(changes: JobChange[]): void;
  logger: Logger;
  /**
   * Whether the collection keeps pre- and post-images: then each event carries the job as it
   * was and as it became. Without, the job is looked up when the event is read (it may have
   * changed again since) and its status before is not known.
   */
  images: boolean;
  /** Pause before a failed stream is opened again, in ms. */
  reopenDelayMs?: number;
}

const watchedOperations = ['insert', 'update', 'replace', 'delete'];

export class ChangeFollower {
  readonly #jobs: CollectionLike;
  readonly #options: ChangeFollowerOptions;
  #stream: ChangeStreamLike | undefined;
  #resumeToken: unknown;
  #pending: JobChange[] = [];
  #flushing = false;
  #reopenTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** How many times the stream was opened again after failing (for tests and metrics). */
  reopened = 0;

  constructor(jobs: CollectionLike, options: ChangeFollowerOptions) {
    this.#jobs = jobs;
    this.#options = options;
  }

  start(): void {
    this.#open();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reopenTimer);
    const stream = this.#stream;
    this.#stream = undefined;
    await stream?.close().catch(() => undefined);
  }

  #open(): void {
    if (this.#stopped) return;
    const options: Document = this.#options.images
      ? { fullDocument: 'whenAvailable', fullDocumentBeforeChange: 'whenAvailable' }
      : { fullDocument: 'updateLookup' };
    if (this.#resumeToken !== undefined) options.resumeAfter = this.#resumeToken;
    let stream: ChangeStreamLike;
    try {
      stream = this.#jobs.watch(
        [
          { $match: { operationType: { $in: watchedOperations } } },
          // The log only grows: without it, an event stays far below MongoDB's 16 MB limit
          // however long a job's log, and the feed does not need it.
          { $project: { 'fullDocument.log': 0, 'fullDocument._words': 0, 'fullDocumentBeforeChange.log': 0, 'fullDocumentBeforeChange._words': 0, updateDescription: 0 } },
        ],
        options,
      );
    } catch (error) {
      this.#failed(error as Error);
      return;
    }
    this.#stream = stream;
    stream.on('change', (event) => {
      this.#resumeToken = event._id;
      this.#receive(event);
    });
    stream.on('error', (error) => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      // The driver may know a later position than the last event told (events filtered out).
      this.#resumeToken = stream.resumeToken ?? this.#resumeToken;
      void stream.close().catch(() => undefined);
      this.#failed(error);
    });
    // Ended by the server without an error (its collection dropped, say): follow again.
    stream.on('close', () => {
      if (this.#stream !== stream) return;
      this.#stream = undefined;
      this.#resumeToken = stream.resumeToken ?? this.#resumeToken;
      this.#failed(new Error('the change stream was closed by the server'));
    });
  }

  #failed(error: Error): void {
    if (this.#stopped) return;
    const code = (error as { code?: unknown }).code;
    // ChangeStreamHistoryLost: the events since the token left the oplog; start from now.
    if (code === 286 || code === 280) {
      this.#options.logger.error(
        { err: error, collection: this.#jobs.collectionName },
        'the change stream could not resume: changes made by other servers meanwhile were missed; live views may be stale until their jobs change again',
      );
      this.#resumeToken = undefined;
    } else {
      this.#options.logger.warn({ err: error, collection: this.#jobs.collectionName }, 'the change stream failed; opening it again');
    }
    clearTimeout(this.#reopenTimer);
    this.#reopenTimer = setTimeout(() => {
      this.reopened += 1;
      this.#open();
    }, this.#options.reopenDelayMs ?? 1000);
  }

  #receive(event: ChangeEventLike): void {
    const session = event.lsid?.id.toString('hex');
    if (session !== undefined && this.#options.ownSessions.has(session)) return;
    const change = toJobChange(event, this.#options.logger);
    if (change === undefined) return;
    this.#pending.push(change);
    // The events of one transaction arrive together: tell them as one collapsed batch.
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => {
        this.#flushing = false;
        const changes = collapseChanges(this.#pending.splice(0));
        if (changes.length > 0) this.#options.deliver(changes);
      });
    }
  }
}

/** A change event as the feed's change, or undefined for a document that is not a job. */
function toJobChange(event: ChangeEventLike, logger: Logger): JobChange | undefined {
  const id = event.documentKey?._id;
  if (typeof id !== 'string') return undefined;
  const after = event.operationType === 'delete' ? null : (event.fullDocument ?? null);
  // An update whose job is gone by the time it is looked up: its deletion follows.
  if (after === null && event.operationType !== 'delete') return undefined;
  const before = event.operationType === 'insert' ? null : (event.fullDocumentBeforeChange ?? null);
  const afterJob = after === null ? undefined : job(after, logger);
  if (after !== null && afterJob === undefined) return undefined;
  const status = afterJob?.status ?? null;
  // Without a pre-image (pre-images not enabled), the status before is taken as unchanged.
  const previousStatus = event.operationType === 'insert' ? null : ((before?.status as JobStatus | undefined) ?? status);
  const type = afterJob?.type ?? (before?.type as string | undefined);
  if (type === undefined) return undefined;
  const change: JobChange = { id, type, status, previousStatus };
  if (afterJob?.chain !== undefined) change.chainId = afterJob.chain.id;
  if (afterJob !== undefined) change.doc = afterJob;
  return change;
}

function job(doc: Document, logger: Logger) {
  const problem = shapeProblem(doc);
  if (problem === undefined) return jobFromDocument(doc);
  logger.warn({ jobId: String(doc._id), problem }, 'a changed document is not a job; it is left out of live data');
  return undefined;
}
