import { randomBytes } from 'node:crypto';

/** Meteor's Random.id alphabet: ids made of it never need escaping on the wire (docs/PROTOCOL.md §1.9). */
const idAlphabet = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';
// Bytes at or above this are rejected so that every character is equally likely.
const byteLimit = 256 - (256 % idAlphabet.length);

/** A Meteor-style random id: 17 characters by default, as Random.id() makes. */
export function randomId(length = 17): string {
  let id = '';
  while (id.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < byteLimit && id.length < length) id += idAlphabet[byte % idAlphabet.length];
    }
  }
  return id;
}
