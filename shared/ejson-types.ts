/**
 * The EJSON custom types Cumulus understands, registered on the process-wide `ejson` module
 * (the one simpleddp also uses). `ddp` clients pre-register Mongo's ObjectID as `oid`; without
 * the same registration a frame carrying one fails to decode: on the server a Parse error, and
 * in simpleddp a frame silently dropped, which hangs the call it answers (docs/PROTOCOL.md §1.9).
 */
import EJSON from 'ejson';
import { ObjectId } from './object-id.ts';

let registered = false;

/** Registers `oid`; safe to call more than once. */
export function registerEjsonTypes(): void {
  if (registered) return;
  try {
    EJSON.addType('oid', (value) => new ObjectId(value as string));
  } catch (error) {
    // Someone else in the process registered it first; theirs decodes the same text.
    if (!(error instanceof Error && /already present/.test(error.message))) throw error;
  }
  registered = true;
}
