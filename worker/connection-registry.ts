/**
 * Which connection `Job` uses for a collection root: the one set for that root with
 * `Job.setDDP(connection, roots)`, else the default (the latest `connect()`, unless it was
 * told not to be, or one set with `Job.setDDP(connection)`).
 */
import type { CumulusConnection } from './connection.ts';

let fallback: CumulusConnection | undefined;
const byRoot = new Map<string, CumulusConnection>();

/** Uses `connection` for the given roots, or for every root without its own when none are given. */
export function useConnection(connection: CumulusConnection, roots?: string | readonly string[]): void {
  if (roots === undefined) {
    fallback = connection;
    return;
  }
  for (const root of typeof roots === 'string' ? [roots] : roots) byRoot.set(root, connection);
}

export function connectionFor(root: string): CumulusConnection {
  const connection = byRoot.get(root) ?? fallback;
  if (connection === undefined) {
    throw new Error(`No Cumulus connection for collection '${root}': call connect(url) or Job.setDDP(connection) first`);
  }
  return connection;
}

/** A closed connection is no longer anyone's. */
export function forgetConnection(connection: CumulusConnection): void {
  if (fallback === connection) fallback = undefined;
  for (const [root, used] of byRoot) if (used === connection) byRoot.delete(root);
}
