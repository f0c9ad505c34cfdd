/**
 * Chains of jobs, stored and advanced by the server (docs/PROTOCOL.md §7.9): Atmosphere's
 * submit-and-await, sequences with a data cascade, and jobs calling jobs. Every link is an
 * ordinary job (visible, retryable, administrable) carrying `chain: {id, index, length}`.
 *
 * chainSubmit(links [1..], {id?, parent?: {id, runId}, watch?})
 *   Guard: the links' rules (one callback, name and timeout on the first link only, 400);
 *   a parent must be running with that runId (409) and the chain no deeper than
 *   `maxChainDepth` (400). A known client `id` answers the chain saved before.
 *   Answer: {chainId, jobId} (the first link's job).
 *   Writes, in one transaction: the chain, and its first link's job (log `Job Submitted`,
 *   `Promoted to ready`). Feed: the link inserted as ready.
 * On a link's completion (jobDone's transaction): the outcome is set if it is the callback
 *   link; the next link's job is made with `{...its data, [type of this link]: result}`, or
 *   the chain completes. On a link's final failure or cancellation: the chain ends so, with
 *   that outcome unless one was set. Cancelling a job cancels the chains its handler submitted.
 * Awaiting the outcome: outcomes.ts (§7.12).
 */
import { linkDefaults, resultValue, type ChainOutcome, type ChainSubmitted } from '../../shared/chains.ts';
import { jobStatusCancellable } from '../../shared/constants.ts';
import { CumulusError } from '../../shared/errors.ts';
import type { MethodParams } from '../../shared/methods.ts';
import type { ChainChanges, JobTransaction, StoredChain, StoredJob } from '../store/job-store.ts';
import type { Caller, JobContext } from './context.ts';
import { newJobDocument } from './job-docs.ts';
import { logMessages } from './log-messages.ts';

export async function chainSubmit(
  ctx: JobContext,
  [links, options = {}]: MethodParams<'chainSubmit'>,
  caller: Caller,
): Promise<ChainSubmitted> {
  // Refused before anything is saved: a chain saved and then refused would be submitted twice.
  if (options.watch === true && caller.connectionId !== null) ctx.watcher.checkRoom(caller.connectionId, 1);
  const submitted = await ctx.store.transaction(async (tx): Promise<ChainSubmitted> => {
    if (options.id !== undefined) {
      // The same submission again, after its answer was lost.
      const existing = await tx.getChain(options.id);
      if (existing !== undefined) return { chainId: existing._id, jobId: existing.jobIds[0] as string };
    }
    const depth = options.parent === undefined ? 0 : await depthUnder(ctx, tx, options.parent, caller);
    const now = ctx.clock.now();
    const marked = links.findIndex((link) => link.callback === true);
    const chain: StoredChain = {
      _id: options.id ?? ctx.newId(),
      ...(links[0]?.name === undefined ? {} : { name: links[0].name }),
      links,
      jobIds: [],
      callbackAt: marked === -1 ? links.length - 1 : marked,
      status: 'running',
      ...(options.parent === undefined ? {} : { parent: options.parent.id }),
      depth,
      created: now,
      updated: now,
    };
    await tx.insertChain(chain);
    const jobId = await makeLink(ctx, tx, chain, 0, links[0]?.data ?? {});
    await tx.updateChain(chain._id, { jobIds: [jobId] });
    return { chainId: chain._id, jobId };
  });
  if (options.watch === true && caller.connectionId !== null) {
    // A chain that settled already (a repeated submission) lands in the mailbox at once.
    await ctx.watcher.watch('chains', caller.connectionId, [submitted.chainId], { toMailbox: true });
  }
  return submitted;
}

/** How deep a chain submitted by the handler of `parent` is; refuses a parent not running, or too deep a chain. */
async function depthUnder(ctx: JobContext, tx: JobTransaction, parent: { id: string; runId: string }, caller: Caller): Promise<number> {
  const job = await tx.get(parent.id);
  // The parent must be running here: a job this very connection claimed (the server's own calls
  // excepted), so that a worker cannot submit anything by naming a job someone else runs.
  const claimedElsewhere = caller.connectionId !== null && job?._private?.claimedBy !== caller.connectionId;
  if (job?.status !== 'running' || job.runId !== parent.runId || claimedElsewhere) {
    const state = job === undefined
      ? 'does not exist'
      : job.runId !== parent.runId ? 'runs under another runId'
      : job.status !== 'running' ? `is ${job.status}`
      : 'is run by another connection';
    throw new CumulusError(409, 'Parent job not running', `options.parent: job ${parent.id} ${state}; only the handler running a job may submit on its behalf`);
  }
  const parentChain = job.chain === undefined ? undefined : await tx.getChain(job.chain.id);
  const depth = (parentChain?.depth ?? 0) + 1;
  if (depth > ctx.limits.maxChainDepth) {
    throw new CumulusError(
      400,
      'Recursion too deep',
      `a chain submitted by job ${parent.id} would be ${depth} levels deep; the limit is ${ctx.limits.maxChainDepth} (CUMULUS_MAX_CHAIN_DEPTH)`,
    );
  }
  return depth;
}

/** Makes the job of link `index` with `data`, ready at once; answers its id. Feed: inserted as ready. */
async function makeLink(ctx: JobContext, tx: JobTransaction, chain: StoredChain, index: number, data: Record<string, unknown>): Promise<string> {
  const link = chain.links[index];
  if (link === undefined) throw new Error(`chain ${chain._id} has no link ${index}`);
  const job = newJobDocument({
    id: ctx.newId(),
    type: link.type,
    data,
    now: ctx.clock.now(),
    priority: link.priority,
    retries: link.retries,
    retryWait: link.retryWait ?? linkDefaults.retryWait,
    retryBackoff: link.retryBackoff,
    name: chain.name,
    chain: { id: chain._id, index, length: chain.links.length },
    parent: chain.parent,
  });
  // Due now and free of dependencies: inserted ready, as a save of such a job is.
  await tx.insert({ ...job, status: 'ready' }, [logMessages.submitted(job.created), logMessages.readied(job.created)]);
  return job._id;
}

/** The chain `job` is the current link of, if it is one. */
async function chainOfLink(tx: JobTransaction, job: StoredJob): Promise<StoredChain | undefined> {
  if (job.chain === undefined) return undefined;
  const chain = await tx.getChain(job.chain.id);
  // Only the link's own job moves its chain (a rerun's clone is no link).
  return chain?.jobIds[job.chain.index] === job._id ? chain : undefined;
}

/**
 * A link completed: it may give the submitter its outcome; the next link is made with the data
 * cascade, or the chain is complete. A link restarted after its chain ended resumes the chain.
 */
export async function advanceChain(ctx: JobContext, tx: JobTransaction, job: StoredJob, result: Record<string, unknown>): Promise<void> {
  const chain = await chainOfLink(tx, job);
  if (chain === undefined || job.chain === undefined) return;
  const index = job.chain.index;
  const changes: ChainChanges = { updated: ctx.clock.now() };
  if (chain.outcome === undefined && index === chain.callbackAt) changes.outcome = { ok: true, jobId: job._id, index, result };
  const next = chain.links[index + 1];
  if (next === undefined) {
    changes.status = 'completed';
  } else if (chain.jobIds.length === index + 1) {
    const data = { ...(next.data ?? {}), [job.type]: resultValue(result) };
    changes.jobIds = [...chain.jobIds, await makeLink(ctx, tx, chain, index + 1, data)];
    changes.status = 'running';
  }
  await tx.updateChain(chain._id, changes);
}

/** A link failed for good or was cancelled: the chain ends, and the rest never runs. */
export async function endChain(
  ctx: JobContext,
  tx: JobTransaction,
  job: StoredJob,
  status: 'failed' | 'cancelled',
  failure?: Record<string, unknown>,
): Promise<void> {
  const chain = await chainOfLink(tx, job);
  if (chain === undefined || job.chain === undefined) return;
  const changes: ChainChanges = { status, updated: ctx.clock.now() };
  if (chain.outcome === undefined) {
    const outcome: ChainOutcome = { ok: false, jobId: job._id, index: job.chain.index, type: job.type, status, ...(failure === undefined ? {} : { failure }) };
    changes.outcome = outcome;
  }
  await tx.updateChain(chain._id, changes);
}

/** The current link jobs, still cancellable, of the chains the handler of `parentId` submitted. */
export async function childLinks(tx: JobTransaction, parentId: string): Promise<string[]> {
  const running = await tx.chainsOf(parentId, ['running']);
  const current = running.flatMap((chain) => chain.jobIds.slice(-1));
  if (current.length === 0) return [];
  return (await tx.find({ ids: current, statuses: jobStatusCancellable })).map((job) => job._id);
}

/** Deletes the finished chains that the removal of `removed` left without any link. */
export async function forgetEmptiedChains(tx: JobTransaction, removed: readonly StoredJob[]): Promise<void> {
  const chainIds = new Set(removed.flatMap((job) => (job.chain === undefined ? [] : [job.chain.id])));
  for (const chainId of chainIds) {
    const chain = await tx.getChain(chainId);
    if (chain === undefined || chain.status === 'running') continue;
    if ((await tx.find({ ids: chain.jobIds })).length === 0) await tx.removeChain(chainId);
  }
}
