/**
 * Every option of the server, its default and its environment variable, in one place: the
 * `variables` table below. The README's configuration table is checked against it by a test.
 * `loadConfig` turns the environment into a typed `Config` or throws a `ConfigError` whose
 * message is meant for the person starting the server.
 */
import { z } from 'zod';
import { defaultRoot } from '../shared/constants.ts';
import { permissionGroups, type PermissionGroup } from '../shared/methods.ts';
import { ddpServerDefaults } from './ddp/index.ts';
import { jobLimitDefaults } from './jobs/context.ts';
import { schedulerDefaults } from './jobs/scheduler.ts';
import { logLevels } from './logger.ts';
import { publicationDefaults, type PublicationOptions } from './publications/publication-options.ts';
import { mongoLeaseDefaults } from './store/mongo/mongo-leases.ts';

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
  analyticsFlushMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxMessageBytes: number;
  /** How long a SIGINT/SIGTERM shutdown waits for in-flight methods (ms). */
  shutdownGraceMs: number;
  /**
   * How long the running jobs of a lost worker connection stay claimed, so the worker may
   * reconnect and take them back, before they are requeued (ms). Also how long a server must
   * have been gone (a previous run of this one, or another sharing the database) before the
   * jobs it left running are requeued.
   */
  requeueGraceMs: number;
  /** MongoDB: how long to look for a reachable server, and how long a server lease lasts. */
  mongo: { timeoutMs: number; leaseMs: number };
  /** How live queries batch their changes (docs/PROTOCOL.md §7.6). */
  publications: PublicationOptions;
  /** How deep jobs may call jobs (chains submitted by handlers, docs/PROTOCOL.md §7.9). */
  maxChainDepth: number;
  /** Bytes waiting in a socket past which changes are coalesced (docs/PROTOCOL.md §1.8). */
  maxBufferedBytes: number;
  /** How long a socket may stay over `maxBufferedBytes` before its connection is closed (ms). */
  slowClientTimeoutMs: number;
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const rootName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." or "-"');

interface Variable {
  /** The value used when the variable is unset or blank, as it would be written in the environment. */
  default: string;
  /** What it means, for the README and error messages. */
  help: string;
}

/** Every environment variable the server reads. */
export const variables = {
  PORT: { default: '3000', help: 'TCP port of HTTP and DDP' },
  HOST: { default: '127.0.0.1', help: 'interface to listen on' },
  DATABASE_URL: {
    default: 'sqlite:./data/cumulus.db',
    help: '`sqlite:<file>`, `sqlite::memory:`, or `mongodb://…` / `mongodb+srv://…` (a replica set; see "Scaling out")',
  },
  CUMULUS_COLLECTIONS: { default: defaultRoot, help: 'comma-separated collection roots' },
  CUMULUS_TOKENS: {
    default: '',
    help: 'comma-separated `role:token` pairs; roles `admin`, `manager`, `creator`, `worker`',
  },
  CUMULUS_ALLOWED_ORIGINS: {
    default: '',
    help: "browser origins, besides the server's own, whose pages may open the DDP websocket",
  },
  CUMULUS_REQUEUE_GRACE_MS: {
    default: '10000',
    help: "a worker connection that is lost has its running jobs requeued after this long (also how long a server must have been gone, a restarted one's previous run included, before its running jobs are requeued)",
  },
  CUMULUS_MONGO_TIMEOUT_MS: {
    default: '10000',
    help: 'MongoDB: how long to look for a reachable server, at start (then the start fails with a message naming the hosts) and for each operation',
  },
  CUMULUS_SERVER_LEASE_MS: {
    default: String(mongoLeaseDefaults.ttlMs),
    help: "MongoDB: a server that has not renewed its lease for this long is gone: another server takes over its duties, and its running jobs are requeued after the grace",
  },
  CUMULUS_PROMOTE_INTERVAL_MS: {
    default: String(schedulerDefaults.promoteIntervalMs),
    help: 'backstop promotion and lease-expiry pass',
  },
  CUMULUS_ANALYTICS_FLUSH_MS: {
    default: '5000',
    help: 'how often the analytics counted in memory are written to the store (a crash loses at most this much of them)',
  },
  CUMULUS_HEARTBEAT_MS: { default: String(ddpServerDefaults.heartbeatIntervalMs), help: 'DDP heartbeat interval and timeout' },
  CUMULUS_MAX_MESSAGE_BYTES: {
    default: String(ddpServerDefaults.maxMessageBytes),
    help: 'larger DDP frames close the connection (code 1009)',
  },
  CUMULUS_MAX_BUFFERED_BYTES: {
    default: String(ddpServerDefaults.maxBufferedBytes),
    help: "bytes waiting in a connection's socket past which document changes are coalesced (latest state only) instead of queued",
  },
  CUMULUS_SLOW_CLIENT_TIMEOUT_MS: {
    default: String(ddpServerDefaults.slowClientTimeoutMs),
    help: 'a connection whose socket stays over that many bytes for this long is closed (code 4000)',
  },
  CUMULUS_PUBLICATION_THROTTLE_MS: {
    default: String(publicationDefaults.throttleMs),
    help: 'a live subscription is refreshed at most once per this interval, however many writes',
  },
  CUMULUS_PUBLICATION_MESSAGES_PER_S: {
    default: String(publicationDefaults.messagesPerSecond),
    help: 'messages one live query sends per second on average, at most (one per subscriber and changed job); past it its batches are spaced out, up to 5 s apart',
  },
  CUMULUS_MAX_CHAIN_DEPTH: {
    default: String(jobLimitDefaults.maxChainDepth),
    help: 'how deep jobs may call jobs: a chain submitted by a running job is one level below it',
  },
  CUMULUS_SHUTDOWN_GRACE_MS: { default: String(ddpServerDefaults.closeTimeoutMs), help: 'how long SIGINT/SIGTERM waits for in-flight methods' },
  LOG_LEVEL: { default: 'info', help: `pino log level (${logLevels.join(', ')}); logs are JSON lines on stdout` },
} as const satisfies Record<string, Variable>;

export type ConfigVariable = keyof typeof variables;

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
    analyticsFlushMs: parse('CUMULUS_ANALYTICS_FLUSH_MS', integer(50, 600_000)),
    heartbeatIntervalMs: heartbeat,
    heartbeatTimeoutMs: heartbeat,
    maxMessageBytes: parse('CUMULUS_MAX_MESSAGE_BYTES', integer(1024, 1024 * 1024 * 1024)),
    shutdownGraceMs: parse('CUMULUS_SHUTDOWN_GRACE_MS', integer(0, 3_600_000)),
    requeueGraceMs: parse('CUMULUS_REQUEUE_GRACE_MS', integer(0, 86_400_000)),
    mongo: {
      timeoutMs: parse('CUMULUS_MONGO_TIMEOUT_MS', integer(100, 600_000)),
      leaseMs: parse('CUMULUS_SERVER_LEASE_MS', integer(100, 3_600_000)),
    },
    publications: {
      throttleMs: parse('CUMULUS_PUBLICATION_THROTTLE_MS', integer(0, 60_000)),
      messagesPerSecond: parse('CUMULUS_PUBLICATION_MESSAGES_PER_S', integer(100, 100_000_000)),
    },
    maxChainDepth: parse('CUMULUS_MAX_CHAIN_DEPTH', integer(1, 10_000)),
    maxBufferedBytes: parse('CUMULUS_MAX_BUFFERED_BYTES', integer(1024, 1024 * 1024 * 1024)),
    slowClientTimeoutMs: parse('CUMULUS_SLOW_CLIENT_TIMEOUT_MS', integer(100, 3_600_000)),
    logLevel: parse('LOG_LEVEL', z.enum(logLevels, { message: `expected one of ${logLevels.join(', ')}` })),
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
