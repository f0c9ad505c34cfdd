/**
 * The per-connection merge box (docs/PROTOCOL.md §1.8), after Meteor's SessionCollectionView: several
 * subscriptions may publish the same document; the client sees one document whose every field
 * comes from the first subscription that published it, falling back to the next on removal.
 */
import EJSON from 'ejson';

/** Whatever identifies a subscription run; compared by identity. */
export type Owner = object;

export type Fields = Record<string, unknown>;

export type DataMessage =
  | { msg: 'added'; collection: string; id: string; fields?: Fields }
  | { msg: 'changed'; collection: string; id: string; fields?: Fields; cleared?: string[] }
  | { msg: 'removed'; collection: string; id: string };

interface Holding {
  owner: Owner;
  value: unknown;
}

class DocumentView {
  readonly holders = new Set<Owner>();
  /** field → holders in precedence order; the first one's value is what the client has. */
  readonly fields = new Map<string, Holding[]>();

  visibleFields(): Fields {
    const out: Fields = {};
    for (const [key, list] of this.fields) out[key] = (list[0] as Holding).value;
    return out;
  }

  /** Sets `owner`'s value of a field; records in `diff` what the client must learn. */
  setField(owner: Owner, key: string, value: unknown, diff: Fields): void {
    const list = this.fields.get(key);
    const copy = EJSON.clone(value);
    if (list === undefined) {
      this.fields.set(key, [{ owner, value: copy }]);
      diff[key] = copy;
      return;
    }
    const mine = list.find((h) => h.owner === owner);
    if (mine === undefined) {
      list.push({ owner, value: copy });
      return;
    }
    if (mine === list[0] && !EJSON.equals(mine.value, copy)) diff[key] = copy;
    mine.value = copy;
  }

  /** Drops `owner`'s value of a field; `undefined` in `diff` means the client must clear it. */
  clearField(owner: Owner, key: string, diff: Fields): void {
    const list = this.fields.get(key);
    if (list === undefined) return;
    const at = list.findIndex((h) => h.owner === owner);
    if (at < 0) return;
    const [dropped] = list.splice(at, 1) as [Holding];
    if (list.length === 0) {
      this.fields.delete(key);
      diff[key] = undefined;
    } else if (at === 0 && !EJSON.equals(dropped.value, (list[0] as Holding).value)) {
      diff[key] = (list[0] as Holding).value;
    }
  }
}

type Views = Map<string, Map<string, DocumentView>>;

/**
 * For shared collections: who holds each document, and nothing of its fields. A list, since
 * nearly always one subscription holds a document, and a connection may hold many thousands.
 */
type Holders = Map<string, Map<string, Owner[]>>;

export class MergeBox {
  #views: Views = new Map();
  #holders: Holders = new Map();
  /** During a rebuild: the latest fields published for each shared document, to send at its end. */
  #rebuilt: Map<string, Fields> | undefined;
  #muted = false;

  readonly #send: (message: DataMessage) => void;
  readonly #isShared: (collection: string) => boolean;

  /**
   * @param isShared Collections whose every publication publishes a document with the same
   *   fields (see `DdpServer.shareDocuments`): for them the box counts who holds a document and
   *   keeps no copy of it, so a connection costs an id per document, not its fields; and what a
   *   publication sends passes through unchanged (the same object to every connection).
   */
  constructor(send: (message: DataMessage) => void, isShared: (collection: string) => boolean = () => false) {
    this.#send = send;
    this.#isShared = isShared;
  }

  added(owner: Owner, collection: string, id: string, fields: Fields): void {
    if (this.#isShared(collection)) return this.#sharedAdded(owner, collection, id, fields);
    let docs = this.#views.get(collection);
    if (docs === undefined) this.#views.set(collection, (docs = new Map()));
    let doc = docs.get(id);
    const isNew = doc === undefined;
    if (doc === undefined) docs.set(id, (doc = new DocumentView()));
    doc.holders.add(owner);
    const diff: Fields = {};
    for (const [key, value] of Object.entries(fields)) {
      // _id is the message's id, never a field; undefined is no value at all.
      if (key === '_id' || value === undefined) continue;
      doc.setField(owner, key, value, diff);
    }
    this.#emit(isNew ? 'added' : 'changed', collection, id, diff);
  }

  changed(owner: Owner, collection: string, id: string, fields: Fields): void {
    if (this.#isShared(collection)) return this.#sharedChanged(owner, collection, id, fields);
    const doc = this.#views.get(collection)?.get(id);
    if (doc === undefined || !doc.holders.has(owner)) return;
    const diff: Fields = {};
    for (const [key, value] of Object.entries(fields)) {
      if (key === '_id') continue;
      if (value === undefined) doc.clearField(owner, key, diff);
      else doc.setField(owner, key, value, diff);
    }
    this.#emit('changed', collection, id, diff);
  }

  removed(owner: Owner, collection: string, id: string): void {
    if (this.#isShared(collection)) return this.#sharedRemoved(owner, collection, id);
    const docs = this.#views.get(collection);
    const doc = docs?.get(id);
    if (docs === undefined || doc === undefined || !doc.holders.delete(owner)) return;
    if (doc.holders.size === 0) {
      docs.delete(id);
      if (docs.size === 0) this.#views.delete(collection);
      this.#emit('removed', collection, id, {});
      return;
    }
    const diff: Fields = {};
    for (const key of [...doc.fields.keys()]) doc.clearField(owner, key, diff);
    this.#emit('changed', collection, id, diff);
  }

  /**
   * Starts rebuilding from nothing without telling the client (setUserId re-runs every
   * subscription). The returned function ends the rebuild and sends only the difference
   * between what the client had and what the rebuild produced.
   */
  beginRebuild(): () => void {
    const before = this.#views;
    const heldBefore = this.#holders;
    this.#views = new Map();
    this.#holders = new Map();
    this.#rebuilt = new Map();
    this.#muted = true;
    return () => {
      this.#muted = false;
      const rebuilt = this.#rebuilt ?? new Map<string, Fields>();
      this.#rebuilt = undefined;
      this.#sendDiff(before, this.#views);
      this.#sendSharedDiff(heldBefore, this.#holders, rebuilt);
    };
  }

  /** Forgets everything without sending (the connection is gone). */
  clear(): void {
    this.#views = new Map();
    this.#holders = new Map();
  }

  #sharedAdded(owner: Owner, collection: string, id: string, fields: Fields): void {
    let docs = this.#holders.get(collection);
    if (docs === undefined) this.#holders.set(collection, (docs = new Map()));
    let holders = docs.get(id);
    if (holders === undefined) docs.set(id, (holders = []));
    const isNew = holders.length === 0;
    if (!holders.includes(owner)) holders.push(owner);
    if (this.#rebuilt !== undefined) {
      this.#rebuilt.set(sharedKey(collection, id), { ...this.#rebuilt.get(sharedKey(collection, id)), ...fields });
      return;
    }
    // A second holder publishes what the client has already (the same fields, maybe a flush older).
    if (isNew) this.#sendShared('added', collection, id, fields);
  }

  #sharedChanged(owner: Owner, collection: string, id: string, fields: Fields): void {
    if (this.#holders.get(collection)?.get(id)?.includes(owner) !== true) return;
    if (this.#rebuilt !== undefined) {
      this.#rebuilt.set(sharedKey(collection, id), { ...this.#rebuilt.get(sharedKey(collection, id)), ...fields });
      return;
    }
    this.#sendShared('changed', collection, id, fields);
  }

  #sharedRemoved(owner: Owner, collection: string, id: string): void {
    const docs = this.#holders.get(collection);
    const holders = docs?.get(id);
    const at = holders?.indexOf(owner) ?? -1;
    if (docs === undefined || holders === undefined || at < 0) return;
    holders.splice(at, 1);
    if (holders.length > 0) return;
    docs.delete(id);
    if (docs.size === 0) this.#holders.delete(collection);
    this.#emit('removed', collection, id, {});
  }

  /** Passes the publication's own fields object on when it can, so its encoding can be shared. */
  #sendShared(kind: 'added' | 'changed', collection: string, id: string, fields: Fields): void {
    if (this.#muted) return;
    const shape = shapeOf(fields);
    if (shape === 'other') return this.#emit(kind, collection, id, fields);
    if (shape === 'empty') {
      if (kind === 'added') this.#send({ msg: 'added', collection, id });
      return;
    }
    this.#send({ msg: kind, collection, id, fields });
  }

  #sendSharedDiff(before: Holders, after: Holders, rebuilt: ReadonlyMap<string, Fields>): void {
    for (const [collection, docs] of after) {
      const was = before.get(collection);
      for (const id of docs.keys()) {
        const fields = rebuilt.get(sharedKey(collection, id)) ?? {};
        // Without copies there is nothing to diff against: what the client had is replaced field by field.
        this.#emit(was?.has(id) === true ? 'changed' : 'added', collection, id, fields);
      }
    }
    for (const [collection, docs] of before) {
      const now = after.get(collection);
      for (const id of docs.keys()) if (now?.has(id) !== true) this.#emit('removed', collection, id, {});
    }
  }

  #sendDiff(before: Views, after: Views): void {
    for (const collection of new Set([...before.keys(), ...after.keys()])) {
      const was = before.get(collection) ?? new Map<string, DocumentView>();
      const now = after.get(collection) ?? new Map<string, DocumentView>();
      for (const [id, doc] of now) {
        const old = was.get(id);
        if (old === undefined) {
          this.#emit('added', collection, id, doc.visibleFields());
          continue;
        }
        const oldFields = old.visibleFields();
        const diff: Fields = {};
        for (const [key, value] of Object.entries(doc.visibleFields())) {
          if (!Object.hasOwn(oldFields, key) || !EJSON.equals(oldFields[key], value)) diff[key] = value;
        }
        for (const key of Object.keys(oldFields)) if (!doc.fields.has(key)) diff[key] = undefined;
        this.#emit('changed', collection, id, diff);
      }
      for (const id of was.keys()) if (!now.has(id)) this.#emit('removed', collection, id, {});
    }
  }

  #emit(kind: DataMessage['msg'], collection: string, id: string, diff: Fields): void {
    if (this.#muted) return;
    if (kind === 'removed') {
      this.#send({ msg: 'removed', collection, id });
      return;
    }
    const fields: Fields = {};
    const cleared: string[] = [];
    for (const [key, value] of Object.entries(diff)) {
      if (value === undefined) cleared.push(key);
      else fields[key] = value;
    }
    const hasFields = Object.keys(fields).length > 0;
    if (kind === 'added') {
      this.#send(hasFields ? { msg: 'added', collection, id, fields } : { msg: 'added', collection, id });
      return;
    }
    // An empty `changed` is never sent.
    if (!hasFields && cleared.length === 0) return;
    this.#send({
      msg: 'changed',
      collection,
      id,
      ...(hasFields ? { fields } : {}),
      ...(cleared.length > 0 ? { cleared } : {}),
    });
  }
}

/** Published fields objects are never changed once handed over: what they hold is looked at once. */
const shapes = new WeakMap<Fields, 'plain' | 'empty' | 'other'>();

/** `plain` fields can be sent as they are; `other` ones (an `_id`, an undefined value) need `#emit`. */
function shapeOf(fields: Fields): 'plain' | 'empty' | 'other' {
  let shape = shapes.get(fields);
  if (shape === undefined) {
    const values = Object.values(fields);
    shape = Object.hasOwn(fields, '_id') || values.includes(undefined) ? 'other' : values.length === 0 ? 'empty' : 'plain';
    shapes.set(fields, shape);
  }
  return shape;
}

function sharedKey(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}
