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

export class MergeBox {
  #views: Views = new Map();
  #muted = false;

  readonly #send: (message: DataMessage) => void;

  constructor(send: (message: DataMessage) => void) {
    this.#send = send;
  }

  added(owner: Owner, collection: string, id: string, fields: Fields): void {
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
    this.#views = new Map();
    this.#muted = true;
    return () => {
      this.#muted = false;
      this.#sendDiff(before, this.#views);
    };
  }

  /** Forgets everything without sending (the connection is gone). */
  clear(): void {
    this.#views = new Map();
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
