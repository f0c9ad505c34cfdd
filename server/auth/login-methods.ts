/** DDP `login` and `logout` as Meteor's accounts answer them (docs/PROTOCOL.md §1.10), on bearer tokens. */
import { CumulusError, matchFailed } from '../../shared/errors.ts';
import type { DdpServer } from '../ddp/index.ts';
import type { Authenticator } from './authenticator.ts';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function registerLoginMethods(ddp: DdpServer, auth: Authenticator): void {
  ddp.method('login', (invocation, [options]) => {
    if (!isPlainObject(options)) throw matchFailed('login expects an options object');
    if (!('resume' in options)) throw new CumulusError(400, 'Unrecognized options for login request');
    if (typeof options.resume !== 'string') throw matchFailed('resume must be a token string');
    const granted = auth.login(options.resume);
    if (granted === undefined) {
      throw new CumulusError(403, "You've been logged out by the server. Please log in again.");
    }
    invocation.setUserId(granted.userId);
    return { id: granted.userId, token: options.resume, tokenExpires: granted.tokenExpires, type: 'resume' };
  });

  ddp.method('logout', (invocation) => {
    invocation.setUserId(null);
    return undefined;
  });
}
