/**
 * DDP version negotiation (docs/PROTOCOL.md §1.2), as Meteor's `_handleConnect` does it.
 */
import { asConnect, type IncomingMessage } from './wire.ts';

/** Server versions in preference order. `pre2` behaves as `1`; `pre1` has no heartbeats. */
export const supportedVersions = ['1', 'pre2', 'pre1'] as const;
export type DdpVersion = (typeof supportedVersions)[number];

export type Negotiation = { ok: true; version: DdpVersion } | { ok: false; suggest: DdpVersion };

function isSupported(version: string): version is DdpVersion {
  return (supportedVersions as readonly string[]).includes(version);
}

/**
 * Accepts the client's proposed version only when it is the one the server would pick: the
 * first of the client's `support` list that the server knows. Otherwise the client is told
 * which version to retry with (`failed`).
 */
export function negotiate(message: IncomingMessage): Negotiation {
  const connect = asConnect(message);
  if (connect === undefined) return { ok: false, suggest: supportedVersions[0] };
  const choice = connect.support.find(isSupported) ?? supportedVersions[0];
  return connect.version === choice ? { ok: true, version: choice } : { ok: false, suggest: choice };
}
