/**
 * What a connection sends, with backpressure (docs/PROTOCOL.md §1.8): while the socket takes
 * what it is given, messages go straight out. When more than `maxBufferedBytes` wait in the
 * socket, later messages are held instead, and data messages for one document are coalesced
 * into one that brings the client from what it had to the latest state — so a slow reader costs
 * at most one pending message per document it has or is owed, never every intermediate change.
 * Other messages (results, `updated`, `ready`…) keep their place: data held before them goes out
 * first. A later change of a document already held joins it where it waits, ahead of messages
 * held after it: the client so sees a newer state sooner, which no DDP guarantee forbids, and a
 * client that keeps pinging cannot split the held data into ever more segments. A client that does
 * not drain within `slowClientTimeoutMs` is closed.
 */
import type { DataMessage, Fields } from './merge-box.ts';
import type { WireText } from './wire.ts';

export interface OutgoingOptions {
  /** Bytes waiting in the socket past which messages are held and coalesced. */
  maxBufferedBytes: number;
  /** How long the socket may stay over the limit before the connection is closed (ms). */
  slowClientTimeoutMs: number;
}

export interface OutgoingSocket {
  /** Bytes written to the socket and not yet sent. */
  readonly bufferedAmount: number;
  send(text: WireText): void;
}

/** How often a held connection looks whether its socket has drained. */
const drainCheckMs = 20;


/** One document's held changes: what the client had before them, and where they leave it. */
interface HeldDocument {
  collection: string;
  id: string;
  /** The client had the document before the first held change. */
  had: boolean;
  /** It has one after the last. */
  exists: boolean;
  /** Removed and added again: the client must drop what it had first. */
  replaced: boolean;
  fields: Fields;
  cleared: Set<string>;
}

/** Held messages in order: runs of coalesced data, and messages that keep their place. */
type Segment = { kind: 'data'; documents: Map<string, HeldDocument> } | { kind: 'text'; text: WireText };

export class Outgoing {
  readonly #socket: OutgoingSocket;
  readonly #options: OutgoingOptions;
  /** EJSON text of a message, or undefined when it cannot be encoded (the encoder reports it). */
  readonly #encode: (message: object) => WireText | undefined;
  readonly #segments: Segment[] = [];
  /** Where each held document waits: the documents of its data segment. */
  readonly #heldIn = new Map<string, Map<string, HeldDocument>>();
  #heldSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Called once when the client has been too slow for too long; the connection must go. */
  readonly #tooSlow: (reason: string) => void;

  constructor(
    socket: OutgoingSocket,
    options: OutgoingOptions,
    encode: (message: object) => WireText | undefined,
    tooSlow: (reason: string) => void,
  ) {
    this.#socket = socket;
    this.#options = options;
    this.#encode = encode;
    this.#tooSlow = tooSlow;
  }

  /** Whether messages are being held for a slow socket. */
  get holding(): boolean {
    return this.#segments.length > 0;
  }

  /** Sends (or holds) a data message: `added`, `changed` or `removed`. */
  data(message: DataMessage): void {
    if (this.#closed) return;
    if (!this.#mustHold()) {
      this.#sendEncoded(message);
      return;
    }
    const key = `${message.collection}\u0000${message.id}`;
    let documents = this.#heldIn.get(key);
    if (documents === undefined) {
      let last = this.#segments.at(-1);
      if (last?.kind !== 'data') {
        last = { kind: 'data', documents: new Map() };
        this.#segments.push(last);
      }
      documents = last.documents;
    }
    if (hold(documents, key, message)) this.#heldIn.set(key, documents);
    else this.#heldIn.delete(key);
  }

  /** Sends (or holds, in order) any other message, already encoded. */
  text(text: WireText): void {
    if (this.#closed) return;
    if (!this.#mustHold()) this.#socket.send(text);
    else this.#segments.push({ kind: 'text', text });
  }

  /** Drops what is held and stops looking: the connection is closed. */
  close(): void {
    this.#closed = true;
    this.#segments.length = 0;
    this.#heldIn.clear();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sendEncoded(message: object): void {
    const text = this.#encode(message);
    if (text !== undefined) this.#socket.send(text);
  }

  #mustHold(): boolean {
    if (this.#segments.length > 0) return true;
    if (this.#socket.bufferedAmount <= this.#options.maxBufferedBytes) return false;
    this.#heldSince = Date.now();
    this.#timer = setInterval(() => this.#drain(), drainCheckMs);
    this.#timer.unref();
    return true;
  }

  /** Sends what is held while the socket takes it; closes a client that has been too slow. */
  #drain(): void {
    while (this.#segments.length > 0 && this.#socket.bufferedAmount <= this.#options.maxBufferedBytes) {
      const segment = this.#segments.shift() as Segment;
      if (segment.kind === 'text') this.#socket.send(segment.text);
      else {
        for (const [key, document] of segment.documents) {
          this.#heldIn.delete(key);
          for (const message of messagesOf(document)) this.#sendEncoded(message);
        }
      }
    }
    if (this.#segments.length === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#heldSince = undefined;
      return;
    }
    const waited = Date.now() - (this.#heldSince ?? Date.now());
    if (waited >= this.#options.slowClientTimeoutMs) {
      const buffered = this.#socket.bufferedAmount;
      this.close();
      this.#tooSlow(`Too slow: ${buffered} bytes unread for ${Math.round(waited / 1000)} s`);
    }
  }
}

/**
 * Folds `message` into the held changes of its document. False when they cancel out (added,
 * then removed, before the client heard of it): the document is no longer held.
 */
function hold(documents: Map<string, HeldDocument>, key: string, message: DataMessage): boolean {
  let held = documents.get(key);
  if (held === undefined) {
    // The first held change says what the client had: `added` means nothing, else the document.
    held = { collection: message.collection, id: message.id, had: message.msg !== 'added', exists: true, replaced: false, fields: {}, cleared: new Set() };
    documents.set(key, held);
  }
  switch (message.msg) {
    case 'added':
      if (held.had && !held.exists) held.replaced = true;
      held.exists = true;
      held.fields = { ...message.fields };
      held.cleared.clear();
      break;
    case 'changed': {
      const sentWhole = !held.had || held.replaced;
      for (const [field, value] of Object.entries(message.fields ?? {})) {
        held.fields[field] = value;
        held.cleared.delete(field);
      }
      for (const field of message.cleared ?? []) {
        delete held.fields[field];
        if (!sentWhole) held.cleared.add(field);
      }
      break;
    }
    case 'removed':
      if (!held.had) {
        documents.delete(key);
        return false;
      }
      held.exists = false;
      held.replaced = false;
      held.fields = {};
      held.cleared.clear();
      break;
  }
  return true;
}

/** The messages that bring the client from what it had to the held document's latest state. */
function messagesOf(held: HeldDocument): DataMessage[] {
  const { collection, id } = held;
  const added = (): DataMessage => (Object.keys(held.fields).length > 0 ? { msg: 'added', collection, id, fields: held.fields } : { msg: 'added', collection, id });
  if (!held.had) return held.exists ? [added()] : [];
  if (!held.exists) return [{ msg: 'removed', collection, id }];
  if (held.replaced) return [{ msg: 'removed', collection, id }, added()];
  const hasFields = Object.keys(held.fields).length > 0;
  if (!hasFields && held.cleared.size === 0) return [];
  return [{
    msg: 'changed',
    collection,
    id,
    ...(hasFields ? { fields: held.fields } : {}),
    ...(held.cleared.size > 0 ? { cleared: [...held.cleared] } : {}),
  }];
}
