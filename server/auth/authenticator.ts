/**
 * Who may do what. Tokens map to jobCollection's permission groups (docs/PROTOCOL.md §3.8); a DDP
 * connection logs in with `login [{resume: token}]`. With no tokens configured (allowed only
 * on loopback) auth is off and every connection acts as admin.
 */
import { jobMethods, type JobMethodName, type MethodSpec, type PermissionGroup } from '../../shared/methods.ts';
import type { TokenGrant } from '../config.ts';

/** Tokens never expire; Meteor's clients want a date, so give the far future. */
const neverExpires = new Date(8640000000000000);

export class Authenticator {
  readonly #tokens: ReadonlyMap<string, TokenGrant>;
  readonly #roles: ReadonlyMap<string, PermissionGroup>;

  constructor(tokens: ReadonlyMap<string, TokenGrant>) {
    this.#tokens = tokens;
    this.#roles = new Map([...tokens.values()].map((grant) => [grant.userId, grant.role]));
  }

  get enabled(): boolean {
    return this.#tokens.size > 0;
  }

  /** The grant of a token, or undefined when it is unknown (while auth is off, any token is welcome). */
  login(token: string): { userId: string; tokenExpires: Date } | undefined {
    if (!this.enabled) return { userId: 'anonymous', tokenExpires: neverExpires };
    const grant = this.#tokens.get(token);
    return grant === undefined ? undefined : { userId: grant.userId, tokenExpires: neverExpires };
  }

  roleOf(userId: string | null): PermissionGroup | undefined {
    if (!this.enabled) return 'admin';
    return userId === null ? undefined : this.#roles.get(userId);
  }

  /**
   * jobCollection's rule: admin may call everything, another group only its own methods; and
   * any role may read jobs (`getJob`), as any role may subscribe to them.
   */
  mayCall(userId: string | null, method: JobMethodName, params: readonly unknown[] = []): boolean {
    const role = this.roleOf(userId);
    if (role === undefined) return false;
    const spec: MethodSpec = jobMethods[method];
    if (role === 'admin' || spec.group === role || spec.anyRole === true) return true;
    // A worker may submit on behalf of the job it runs (jobs calling jobs).
    return role === 'worker' && spec.workerFor?.(params) === true;
  }

  /** Any known role may watch the queues. */
  mayRead(userId: string | null): boolean {
    return this.roleOf(userId) !== undefined;
  }
}
