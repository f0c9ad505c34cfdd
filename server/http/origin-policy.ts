/**
 * Which websocket upgrades come from a place allowed to drive the server. Browsers let any web
 * page open a websocket to 127.0.0.1, so without this a page the user visits could run and
 * delete jobs on a local install without tokens (cross-site websocket hijacking).
 * - A browser sends `Origin`: it must be the server's own origin or listed in
 *   `CUMULUS_ALLOWED_ORIGINS`. Node clients (ddp, simpleddp, the worker library) send none.
 * - With auth off, the `Host` must be a loopback name, or a page on a domain that resolves to
 *   127.0.0.1 (DNS rebinding) would look same-origin.
 */
import type { IncomingMessage } from 'node:http';

export interface OriginPolicy {
  allowedOrigins: readonly string[];
  authEnabled: boolean;
}

const forbidden = '403 Forbidden';

export function upgradeRefusal(request: IncomingMessage, policy: OriginPolicy): string | undefined {
  const host = request.headers.host;
  if (!policy.authEnabled && (host === undefined || !isLoopbackHost(host))) return forbidden;
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  if (policy.allowedOrigins.includes(origin)) return undefined;
  return hostOf(origin) === host ? undefined : forbidden;
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** `localhost`, `127.x.y.z` or `[::1]`, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}
