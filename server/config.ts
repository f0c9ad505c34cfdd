/**
 * Every option of the server, its default and its environment variable, in one place.
 * `loadConfig` turns the environment into a typed `Config` or throws a `ConfigError`
 * whose message is meant for the person starting the server.
 */
import { z } from 'zod';
import { defaultRoot } from '../shared/constants.ts';
import { permissionGroups, type PermissionGroup } from '../shared/methods.ts';

export interface TokenGrant {
  /** The user id a connection logged in with this token gets. */
  userId: string;
  role: PermissionGroup;
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** Collection roots served; methods are `<root>_<name>`. */
  roots: string[];
  /** Bearer tokens by secret. Empty: auth is off and every connection may do everything. */
  tokens: Map<string, TokenGrant>;
  /** Browser origins, besides the server's own, whose pages may open a DDP websocket. */
  allowedOrigins: string[];
  /** Backstop promotion pass period (ms). */
  promoteIntervalMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxMessageBytes: number;
  /** How long a SIGINT/SIGTERM shutdown waits for in-flight methods (ms). */
  shutdownGraceMs: number;
  /**
   * How long the running jobs of a lost worker connection stay claimed, so the worker may
   * reconnect and take them back, before they are requeued (ms). Also the wait, at start, before
   * the jobs left running by a previous run of the server are requeued.
   */
  requeueGraceMs: number;
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const variables = {
  PORT: { default: '3000', help: 'TCP port of HTTP and DDP' },
  HOST: { default: '127.0.0.1', help: 'interface to listen on' },
  DATABASE_URL: { default: 'sqlite:./data/cumulus.db', help: 'sqlite:<file>, sqlite::memory: or mongodb://…' },
  CUMULUS_COLLECTIONS: { default: defaultRoot, help: 'comma-separated collection roots' },
  CUMULUS_TOKENS: { default: '', help: 'comma-separated role:token pairs (roles: admin, manager, creator, worker)' },
  CUMULUS_ALLOWED_ORIGINS: { default: '', help: 'comma-separated browser origins allowed to connect besides the server itself' },
  CUMULUS_PROMOTE_INTERVAL_MS: { default: '15000', help: 'backstop promotion/expiry pass period' },
  CUMULUS_HEARTBEAT_MS: { default: '15000', help: 'DDP heartbeat interval and timeout' },
  CUMULUS_MAX_MESSAGE_BYTES: { default: String(16 * 1024 * 1024), help: 'largest DDP message accepted' },
  CUMULUS_SHUTDOWN_GRACE_MS: { default: '10000', help: 'wait for in-flight methods at shutdown' },
  CUMULUS_REQUEUE_GRACE_MS: { default: '10000', help: "requeue a lost worker connection's running jobs after this long" },
  LOG_LEVEL: { default: 'info', help: 'pino log level' },
} as const;

export type ConfigVariable = keyof typeof variables;

/** The documented variables with their defaults, for the README and `--help`. */
export function describeVariables(): { name: ConfigVariable; default: string; help: string }[] {
  return (Object.keys(variables) as ConfigVariable[]).map((name) => ({ name, ...variables[name] }));
}

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const rootName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." or "-"');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const read = (name: ConfigVariable): string => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? variables[name].default : value.trim();
  };
  const parse = <T>(name: ConfigVariable, schema: z.ZodType<T>, raw: unknown = read(name)): T => {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    throw new ConfigError(`${name}=${String(raw)} is not valid: ${result.error.issues.map((i) => i.message).join('; ')}`);
  };
  const heartbeat = parse('CUMULUS_HEARTBEAT_MS', integer(0, 3_600_000));
  const config: Config = {
    port: parse('PORT', integer(0, 65535)),
    host: read('HOST'),
    databaseUrl: read('DATABASE_URL'),
    roots: parse(
      'CUMULUS_COLLECTIONS',
      z.array(rootName).min(1).refine((roots) => new Set(roots).size === roots.length, 'a collection is listed twice'),
      splitList(read('CUMULUS_COLLECTIONS')),
    ),
    tokens: parseTokens(read('CUMULUS_TOKENS')),
    allowedOrigins: parse('CUMULUS_ALLOWED_ORIGINS', z.array(z.url()), splitList(read('CUMULUS_ALLOWED_ORIGINS'))),
    promoteIntervalMs: parse('CUMULUS_PROMOTE_INTERVAL_MS', integer(10, 86_400_000)),
    heartbeatIntervalMs: heartbeat,
    heartbeatTimeoutMs: heartbeat,
    maxMessageBytes: parse('CUMULUS_MAX_MESSAGE_BYTES', integer(1024, 1024 * 1024 * 1024)),
    shutdownGraceMs: parse('CUMULUS_SHUTDOWN_GRACE_MS', integer(0, 3_600_000)),
    requeueGraceMs: parse('CUMULUS_REQUEUE_GRACE_MS', integer(0, 86_400_000)),
    logLevel: read('LOG_LEVEL'),
  };
  if (config.tokens.size === 0 && !isLoopback(config.host)) {
    throw new ConfigError(
      `Refusing to listen on ${config.host} without authentication: anyone who can reach it could run and delete jobs. ` +
        'Set CUMULUS_TOKENS (e.g. CUMULUS_TOKENS=admin:<secret>,worker:<secret>) or listen on 127.0.0.1.',
    );
  }
  return config;
}

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function parseTokens(text: string): Map<string, TokenGrant> {
  const tokens = new Map<string, TokenGrant>();
  for (const pair of splitList(text)) {
    const colon = pair.indexOf(':');
    const role = pair.slice(0, colon);
    const token = pair.slice(colon + 1);
    if (colon < 1 || token.length === 0 || !isPermissionGroup(role)) {
      throw new ConfigError(`CUMULUS_TOKENS entry "${pair.slice(0, 40)}" must be <role>:<token> with role admin, manager, creator or worker`);
    }
    if (token.length < 8) throw new ConfigError(`CUMULUS_TOKENS: the ${role} token is shorter than 8 characters`);
    tokens.set(token, { userId: role, role });
  }
  return tokens;
}

function isPermissionGroup(role: string): role is PermissionGroup {
  return (permissionGroups as readonly string[]).includes(role);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
