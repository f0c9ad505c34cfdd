/**
 * Mongo's ObjectID as EJSON knows it (`{"$type":"oid","$value":"<24 hex>"}`). `ddp` clients
 * pre-register this type, so their calls may carry one; Cumulus never assigns such ids itself.
 */
const hex24 = /^[0-9a-f]{24}$/;

export class ObjectId {
  readonly #hex: string;

  /** @param hex 24 hexadecimal characters; case is folded to lower case as Meteor does. */
  constructor(hex: string) {
    const lower = typeof hex === 'string' ? hex.toLowerCase() : '';
    if (!hex24.test(lower)) throw new TypeError('Invalid hexadecimal string for creating an ObjectID');
    this.#hex = lower;
  }

  /** True for exactly 24 lower-case hex characters, the text form an ObjectID travels in. */
  static looksLike(text: string): boolean {
    return hex24.test(text);
  }

  toHexString(): string {
    return this.#hex;
  }

  /** EJSON type tag. */
  typeName(): 'oid' {
    return 'oid';
  }

  /** EJSON value: the hex text. */
  toJSONValue(): string {
    return this.#hex;
  }

  equals(other: unknown): boolean {
    return other instanceof ObjectId && other.#hex === this.#hex;
  }

  clone(): ObjectId {
    return new ObjectId(this.#hex);
  }

  toString(): string {
    return `ObjectID("${this.#hex}")`;
  }

  valueOf(): string {
    return this.#hex;
  }
}
