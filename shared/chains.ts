/**
 * Chains (docs/PROTOCOL.md §7.9): a sequence of jobs the server runs one after the other, each
 * link's data merged with the previous link's result, and an outcome the submitter awaits.
 * A single RPC call is a chain of one link. Both the server and the worker library use these
 * shapes; the server validates `chainSubmit` with them.
 */
import { z } from 'zod';
import { id, int32, intGTE0, isPlainObject, plainObject, retryBackoff } from './schemas.ts';

/** The longest timeout a link may give, in seconds: the longest a Node timer holds. */
export const maxTimeoutSeconds = Math.floor((2 ** 31 - 1) / 1000);

/**
 * What a link's job gets unless the link says otherwise. A submitter usually waits for the
 * outcome, so a retry comes after a second, not after meteor-job's five minutes.
 */
export const linkDefaults = {
  retryWait: 1000,
} as const;

/** One link as `chainSubmit` takes it: Atmosphere's job `{type, name, data, timeout, callback}`. */
export const chainLinkSpec = z.strictObject({
  type: z.string().min(1, 'a link needs a type (the queue it goes to)'),
  /** What the work is about (Atmosphere's `name`); only the first link gives it, the chain keeps it. */
  name: z.string().optional(),
  data: plainObject.optional(),
  /** Seconds the submitter waits for the outcome; only the first link gives it (it counts from submission). */
  timeout: z
    .number()
    .positive('timeout must be a positive number of seconds')
    // A longer one would overflow the caller's timer (2^31 - 1 ms) and fire at once.
    .max(maxTimeoutSeconds, `timeout must be at most ${maxTimeoutSeconds} seconds (about 24 days)`)
    .optional(),
  /** The submitter's outcome is this link's result; the chain goes on. At most one link. */
  callback: z.boolean().optional(),
  priority: int32.optional(),
  /** Attempts after the first before the link fails for good (meteor-job's `retry(n)`); default 0. */
  retries: intGTE0.optional(),
  /** ms before a failed attempt runs again; default `linkDefaults.retryWait`. */
  retryWait: intGTE0.optional(),
  retryBackoff: retryBackoff.optional(),
});
export type ChainLinkSpec = z.output<typeof chainLinkSpec>;

/** The links of a chain, with the rules that span links. */
export const chainLinks = z
  .array(chainLinkSpec)
  .min(1, 'a chain needs at least one link')
  .superRefine((links, context) => {
    const marked = links.flatMap((link, index) => (link.callback === true ? [index] : []));
    if (marked.length > 1) {
      context.addIssue({ code: 'custom', path: [marked[1] as number, 'callback'], message: 'only one link may have callback: true' });
    }
    links.forEach((link, index) => {
      if (index === 0) return;
      if (link.timeout !== undefined) {
        context.addIssue({ code: 'custom', path: [index, 'timeout'], message: "only the first link has a timeout: it counts from the chain's submission" });
      }
      if (link.name !== undefined) {
        context.addIssue({ code: 'custom', path: [index, 'name'], message: "only the first link has a name: it is the chain's name" });
      }
    });
  });

/**
 * The id a client chooses for a new job or chain, so that a save repeated after a lost
 * connection finds the first one instead of saving twice. Meteor-style: letters and digits,
 * never one that DDP would escape or take for a Mongo ObjectID.
 */
export const clientId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_]{7,63}$/, 'a client-chosen id is 8 to 64 letters, digits or "_", starting with a letter or digit')
  .refine((value) => !/^[0-9a-f]{24}$/.test(value), 'a client-chosen id must not look like a Mongo ObjectID (24 hex digits)');

export const chainSubmitOptions = z.strictObject({
  /** Client-chosen chain id: submitting again with it answers the chain already saved. */
  id: clientId.optional(),
  /** The running job whose handler submits this chain (jobs calling jobs). */
  parent: z.strictObject({ id, runId: id }).optional(),
  /** Watch the chain's outcome on this connection at once (`outcomes` delivers it, §7.12). */
  watch: z.boolean().optional(),
});

export const chainStatuses = ['running', 'completed', 'failed', 'cancelled'] as const;
export type ChainStatus = (typeof chainStatuses)[number];

/** What the submitter of a chain gets, once: a link's result, or why the chain ended. */
export type ChainOutcome =
  | { ok: true; jobId: string; index: number; result: Record<string, unknown> }
  | {
      ok: false;
      jobId: string;
      index: number;
      type: string;
      status: 'failed' | 'cancelled';
      /** The link's last failure, as the worker reported it (`{value, …}`), when it failed. */
      failure?: Record<string, unknown>;
    };

/** A chain's outcome as `chainWatch` and `outcomes` answer it. */
export interface ChainReport {
  id: string;
  status: ChainStatus;
  outcome: ChainOutcome;
}

/** What `chainWatch` answers: the outcomes already known, and the ids that name no chain. */
export interface ChainWatchAnswer {
  outcomes: ChainReport[];
  missing: string[];
}

/** What `chainSubmit` answers. */
export interface ChainSubmitted {
  chainId: string;
  /** The first link's job. */
  jobId: string;
}

/**
 * A handler's return value as a job result. meteor-job stores a non-object result `r` as
 * `{value: r}`; so does this, and an object that is itself exactly `{value: …}` is wrapped
 * once more, so that `resultValue` gives back exactly what the handler returned. `undefined`
 * travels as null (EJSON has no undefined).
 */
export function resultDocument(value: unknown): Record<string, unknown> {
  if (isPlainObject(value) && !isValueEnvelope(value)) return value;
  return { value: value === undefined ? null : value };
}

/** The value a job's result stands for: `{value: v}` is `v` (see `resultDocument`), any other object itself. */
export function resultValue(result: Record<string, unknown> | undefined): unknown {
  if (result === undefined) return null;
  return isValueEnvelope(result) ? result.value : result;
}

function isValueEnvelope(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'value';
}
