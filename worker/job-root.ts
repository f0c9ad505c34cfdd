/**
 * A collection root as the `Job` API takes it: its name, or (like meteor-job's JobCollection
 * object) something with a `root` name and, optionally, the connection to use for it.
 */
import type { CumulusConnection } from './connection.ts';
import { connectionFor } from './connection-registry.ts';

export type JobRoot = string | { readonly root: string; readonly connection?: CumulusConnection };

export function rootName(root: JobRoot): string {
  const name = typeof root === 'string' ? root : root.root;
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('A job root must be a non-empty string');
  return name;
}

/** The connection calls for `root` go through, looked up at call time as meteor-job does. */
export function connectionOf(root: JobRoot): CumulusConnection {
  return (typeof root === 'string' ? undefined : root.connection) ?? connectionFor(rootName(root));
}
