/**
 * The job-collection methods: one parameter schema per method (validation on the server,
 * static types for the worker), and the permission group that may call it (docs/PROTOCOL.md §2.3, §3.8).
 * A method travels as `<root>_<name>`.
 */
import { z } from 'zod';
import { chainLinks, chainSubmitOptions, clientId } from './chains.ts';
import { matchFailed, type CumulusError } from './errors.ts';
import {
  id, ids, intGTE0, intGTE1, isPlainObject, jobSaveDoc, jobStatus, logLevel, numGT0, numGTE0, plainObject, waitOrSchedule,
} from './schemas.ts';

/** jobCollection's permission groups; `admin` may call everything. */
export const permissionGroups = ['admin', 'manager', 'creator', 'worker'] as const;
export type PermissionGroup = (typeof permissionGroups)[number];

export interface MethodSpec<T extends z.ZodTuple = z.ZodTuple> {
  /** Argument names, for error details. */
  readonly args: readonly string[];
  readonly params: T;
  /** The group, besides admin, allowed to call it; `admin` means admin only. */
  readonly group: PermissionGroup;
  /** Reads nothing but jobs: every role may call it, as every role may subscribe to the jobs. */
  readonly anyRole?: boolean;
  /**
   * Also open to workers when the call names the running job it is made for (a handler's own
   * submissions: jobs calling jobs), which `params` shows.
   */
  readonly workerFor?: (params: readonly unknown[]) => boolean;
}

function spec<const Items extends [z.ZodType, ...z.ZodType[]]>(
  args: readonly string[],
  items: Items,
  group: PermissionGroup,
  anyRole = false,
) {
  // Extra trailing arguments are ignored, as upstream's named parameters ignore them.
  return { args, params: z.tuple(items).rest(z.unknown()), group, anyRole } satisfies MethodSpec;
}

const noOptions = z.strictObject({}).optional();

/** Bounds of the Cumulus extensions. */
export const cumulusLimits = {
  /** Longest a getWork or outcomes call may wait. */
  maxWaitMs: 60_000,
  /** Most jobs in one jobSaveMany, jobDoneMany, reclaimRuns, releaseRuns or jobWatch call, and chains in one chainWatch. */
  maxBatch: 1000,
} as const;

const waitMs = z.number().int().min(0).max(cumulusLimits.maxWaitMs);

/** The actions `jobBulk` applies to a filter (rerun would find its own reruns again: not offered). */
export const bulkActions = ['pause', 'resume', 'ready', 'cancel', 'restart', 'remove'] as const;
export type BulkAction = (typeof bulkActions)[number];

/** A span of time: `from` included, `to` excluded. */
const timeRange = z.strictObject({ from: z.date().optional(), to: z.date().optional() });

/**
 * A typed selection of jobs for jobBulk and jobList: absent criteria match every job. `text`:
 * jobs holding every one of its words, as prefixes, in their id, type, name, data, result or
 * failures (§7.17).
 */
const jobSelection = z.strictObject({
  types: z.array(z.string()).max(cumulusLimits.maxBatch).optional(),
  statuses: z.array(jobStatus).optional(),
  text: z.string().max(1000).optional(),
  created: timeRange.optional(),
  updated: timeRange.optional(),
});

/** Most jobs in one page of jobList. */
export const jobListLimit = { default: 50, max: 100 } as const;

/** The orders of jobList (a search lists newest saved first whatever the order). */
const jobListOrders = ['updated-desc', 'created-desc', 'priority'] as const;

/** The last job of a page: its id, and the fields the order sorts on. */
const listCursor = z.strictObject({ id, updated: z.date().optional(), created: z.date().optional(), priority: z.number().optional() });

/** What a worker tells about itself when it asks for work (docs/PROTOCOL.md §7.11). */
const workerReport = z.strictObject({
  /** A name for humans: the job records it as who ran it. */
  name: z.string().min(1).max(200).optional(),
  /** How many jobs it runs at once at most. */
  concurrency: intGTE1.optional(),
  /** The operating system's one-minute load average divided by the number of CPUs. */
  cpuLoad: numGTE0.optional(),
});

const jobTypes = z.union([z.string(), z.array(z.string())]);

/** Cumulus: claim only jobs whose `parent` is one of these (a worker's slot lent while a job waits for its children, §7.9). */
const parents = z.array(id).max(cumulusLimits.maxBatch);

const nextWork = z.strictObject({
  type: jobTypes,
  maxJobs: intGTE1.optional(),
  workTimeout: intGTE1.optional(),
  parents: parents.optional(),
});

const startJobServer = spec(['options'], [noOptions], 'admin');
// Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer delay would fire at once.
const shutdownJobServer = spec(['options'], [z.strictObject({ timeout: intGTE1.max(2 ** 31 - 1).optional() }).optional()], 'admin');

export const jobMethods = {
  startJobServer,
  shutdownJobServer,
  /** Deprecated aliases kept for old clients. */
  startJobs: startJobServer,
  stopJobs: shutdownJobServer,
  getJob: spec(
    ['ids', 'options'],
    [ids, z.strictObject({ getLog: z.boolean().optional(), getFailures: z.boolean().optional() }).optional()],
    'worker',
    // Upstream lets only workers read jobs; a producer awaiting its job's result must read it too.
    true,
  ),
  getWork: spec(
    ['type', 'options'],
    [
      jobTypes,
      z.strictObject({
        maxJobs: intGTE1.optional(),
        workTimeout: intGTE1.optional(),
        /**
         * Cumulus extension: when nothing is ready, hold the call up to this long and answer as
         * soon as a job of these types becomes ready (the call unblocks its connection first).
         */
        waitMs: waitMs.optional(),
        /** Cumulus extension: who asks, for least-loaded routing and the job's `worker` (§7.11). */
        worker: workerReport.optional(),
        parents: parents.optional(),
      }).optional(),
    ],
    'worker',
  ),
  jobRemove: spec(['ids', 'options'], [ids, noOptions], 'manager'),
  jobPause: spec(['ids', 'options'], [ids, noOptions], 'manager'),
  jobResume: spec(['ids', 'options'], [ids, noOptions], 'manager'),
  jobReady: spec(
    ['ids', 'options'],
    [ids, z.strictObject({ force: z.boolean().optional(), time: z.date().optional() }).optional()],
    'manager',
  ),
  jobCancel: spec(
    ['ids', 'options'],
    [ids, z.strictObject({ antecedents: z.boolean().optional(), dependents: z.boolean().optional() }).optional()],
    'manager',
  ),
  jobRestart: spec(
    ['ids', 'options'],
    [
      ids,
      z.strictObject({
        retries: intGTE0.optional(),
        until: z.date().optional(),
        antecedents: z.boolean().optional(),
        dependents: z.boolean().optional(),
      }).optional(),
    ],
    'manager',
  ),
  jobSave: spec(
    ['doc', 'options'],
    [
      jobSaveDoc,
      z.strictObject({
        cancelRepeats: z.boolean().optional(),
        /** Cumulus extension: the new job's id, chosen by the client so a repeated save finds the first (§7.10). */
        id: clientId.optional(),
      }).optional(),
    ],
    'creator',
  ),
  jobRerun: spec(
    ['id', 'options'],
    [
      id,
      // `wait` is a required key when options are given, as upstream.
      z.strictObject({ repeats: intGTE0.optional(), until: z.date().optional(), wait: waitOrSchedule }).optional(),
    ],
    'creator',
  ),
  jobProgress: spec(
    ['id', 'runId', 'completed', 'total', 'options'],
    [id, id, numGTE0, numGT0, noOptions],
    'worker',
  ),
  jobLog: spec(
    ['id', 'runId', 'message', 'options'],
    [id, id.nullable(), z.string(), z.strictObject({ level: logLevel.optional(), data: plainObject.optional() }).optional()],
    'worker',
  ),
  jobDone: spec(
    ['id', 'runId', 'result', 'options'],
    [
      id,
      id,
      plainObject,
      z.strictObject({
        repeatId: z.boolean().optional(),
        delayDeps: intGTE0.optional(),
        /**
         * Cumulus extension: also claim the next jobs, saving a round trip per job. The answer
         * is then `{ done: <jobDone's own answer>, jobs: <getWork's answer> }`; `jobs` is empty
         * when the done is refused or the job server is stopped.
         */
        next: nextWork.optional(),
      }).optional(),
    ],
    'worker',
  ),
  /**
   * Cumulus extension: jobDone for many runs in one call and one transaction (a worker's batch
   * of jobs). Answers one jobDone answer per run, in order (true, or false for a run that is
   * not current); with `next`, `{ done: [...], jobs }`, claiming only if some run was done.
   */
  jobDoneMany: spec(
    ['runs', 'options'],
    [
      z.array(z.strictObject({ id, runId: id, result: plainObject.optional() })).min(1).max(cumulusLimits.maxBatch),
      z.strictObject({ next: nextWork.optional() }).optional(),
    ],
    'worker',
  ),
  jobFail: spec(
    ['id', 'runId', 'err', 'options'],
    [id, id, plainObject, z.strictObject({ fatal: z.boolean().optional() }).optional()],
    'worker',
  ),
  /**
   * Cumulus extension: saves many new jobs in one call and one transaction. Answers their ids
   * (null where a job was not saved, as jobSave would), in order.
   */
  jobSaveMany: spec(
    ['docs', 'options'],
    [
      z.array(jobSaveDoc).min(1).max(cumulusLimits.maxBatch),
      z.strictObject({ cancelRepeats: z.boolean().optional(), ids: z.array(clientId).optional() }).optional(),
    ],
    'creator',
  ),
  /**
   * Cumulus extension: a worker that reconnected binds the runs it is still working on to its
   * new connection, so they are not requeued as orphans. Answers the ids still running with
   * those runIds.
   */
  reclaimRuns: spec(
    ['runs'],
    [z.array(z.strictObject({ id, runId: id })).max(cumulusLimits.maxBatch)],
    'worker',
  ),
  /**
   * Cumulus extension: a worker gives back runs it claimed but will not start (it is shutting
   * down); they are requeued at once, the attempt given back. Answers the ids released.
   */
  releaseRuns: spec(
    ['runs'],
    [z.array(z.strictObject({ id, runId: id })).max(cumulusLimits.maxBatch)],
    'worker',
  ),
  /**
   * Cumulus extension: saves a chain of jobs and its first link's job in one transaction
   * (§7.9). Answers `{chainId, jobId}`. A worker may submit on behalf of the job it runs.
   */
  chainSubmit: {
    ...spec(['links', 'options'], [chainLinks, chainSubmitOptions.optional()], 'creator'),
    workerFor: (params: readonly unknown[]) => isPlainObject((params[1] as { parent?: unknown } | undefined)?.parent),
  },
  /** Cumulus extension: watches chains' outcomes on this connection; answers those already known (§7.12). */
  chainWatch: spec(['ids'], [z.array(id).max(cumulusLimits.maxBatch)], 'creator', true),
  /** Cumulus extension: watches jobs' outcomes on this connection; answers those already known (§7.12). */
  jobWatch: spec(['ids'], [z.array(id).max(cumulusLimits.maxBatch)], 'creator', true),
  /**
   * Cumulus extension: an admin action on every job of a typed filter, applied in bounded
   * batches (§7.16). Answers `{matched, changed}`; with `dryRun`, only how many it would apply to.
   */
  jobBulk: spec(
    ['action', 'filter', 'options'],
    [z.enum(bulkActions), jobSelection, z.strictObject({ dryRun: z.boolean().optional() }).optional()],
    'manager',
  ),
  /**
   * Cumulus extension: one page of the jobs of a selection, in an order (newest activity first
   * by default); the next page starts `after` the last job of this one (§7.17). Not live.
   */
  jobList: spec(
    ['filter', 'options'],
    [
      jobSelection,
      z.strictObject({
        limit: z.number().int().min(1).max(jobListLimit.max).optional(),
        order: z.enum(jobListOrders).optional(),
        after: listCursor.optional(),
      }).optional(),
    ],
    'worker',
    true,
  ),
  /** Cumulus extension: the outcomes delivered to this connection, waiting up to `waitMs` for one (§7.12). */
  outcomes: spec(['options'], [z.strictObject({ waitMs: waitMs.optional() }).optional()], 'creator', true),
} as const;

export type JobMethodName = keyof typeof jobMethods;
export const jobMethodNames = Object.keys(jobMethods) as JobMethodName[];

/** The validated, defaulted-free parameters of a method, as a tuple. */
export type MethodParams<N extends JobMethodName> = z.output<(typeof jobMethods)[N]['params']>;

/** The DDP name of a method under a collection root. */
export function methodName(root: string, name: JobMethodName): string {
  return `${root}_${name}`;
}

/**
 * Validates raw DDP params against a method's schema. A failure is Meteor's
 * `400 Match failed`, with the offending argument named in `details`.
 */
export function parseParams<N extends JobMethodName>(name: N, params: unknown[]): MethodParams<N> {
  const method: MethodSpec = jobMethods[name];
  const parsed = method.params.safeParse(params);
  if (parsed.success) return parsed.data as MethodParams<N>;
  throw describeFailure(method, parsed.error);
}

function describeFailure(method: MethodSpec, error: z.ZodError): CumulusError {
  const issue = error.issues[0];
  if (issue === undefined) return matchFailed();
  const [first, ...rest] = issue.path;
  const argument = typeof first === 'number' ? (method.args[first] ?? `argument ${first + 1}`) : 'arguments';
  const where = [argument, ...rest.map(String)].join('.');
  return matchFailed(`${where}: ${issue.message}`);
}
