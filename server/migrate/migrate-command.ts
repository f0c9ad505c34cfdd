/**
 * `npm run migrate -- --from <DATABASE_URL> --to <DATABASE_URL> [--collections queue,mail]`:
 * copies the collection roots from one store to another (SQLite ↔ MongoDB, or SQLite to
 * SQLite), with a progress bar, resumable by running it again, and checks the counts at the
 * end. Stop the servers using the source first: a SQLite source is locked while a server
 * runs on it (the command then says so), and jobs that change during the copy would be copied
 * as they were when read.
 *
 * Exit status: 0 when the counts agree, 1 when they do not, 2 for bad arguments or a store
 * that cannot be opened.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { defaultRoot } from '../../shared/constants.ts';
import { createLogger } from '../logger.ts';
import { openStores, type OpenedStores } from '../store/open-store.ts';
import { copyStore, type CopyProgress } from './copy-store.ts';

const usage = `Usage: npm run migrate -- --from <DATABASE_URL> --to <DATABASE_URL> [--collections <roots>] [--page-size <n>]

Copies every job (with its log) and chain of each collection root from one store to another,
e.g. --from sqlite:./data/cumulus.db --to "mongodb://db1,db2/cumulus?replicaSet=rs0".
Jobs the target already has are left alone, so an interrupted copy resumes when run again.
--collections defaults to CUMULUS_COLLECTIONS, else "${defaultRoot}".`;

class UsageError extends Error {}

interface MigrateArgs {
  from: string;
  to: string;
  roots: string[];
  pageSize: number;
}

function parse(argv: readonly string[], env: NodeJS.ProcessEnv): MigrateArgs | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      collections: { type: 'string' },
      'page-size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) return 'help';
  if (values.from === undefined || values.to === undefined) throw new UsageError('both --from and --to are needed');
  if (values.from.trim() === values.to.trim()) throw new UsageError('--from and --to name the same database');
  const roots = (values.collections ?? env.CUMULUS_COLLECTIONS ?? defaultRoot).split(',').map((root) => root.trim()).filter(Boolean);
  if (roots.length === 0) throw new UsageError('--collections names no collection root');
  const pageSize = Number(values['page-size'] ?? 500);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) throw new UsageError('--page-size must be a whole number from 1 to 10000');
  return { from: values.from, to: values.to, roots, pageSize };
}

/** Runs the command; resolves with the exit status. */
export async function migrate(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, out: NodeJS.WriteStream = process.stderr): Promise<number> {
  let args: MigrateArgs | 'help';
  try {
    args = parse(argv, env);
  } catch (error) {
    out.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage}\n`);
    return 2;
  }
  if (args === 'help') {
    out.write(`${usage}\n`);
    return 0;
  }
  const logger = createLogger(env.LOG_LEVEL ?? 'warn');
  const opened: OpenedStores[] = [];
  try {
    const source = await openStores(args.from, args.roots, { logger });
    opened.push(source);
    const target = await openStores(args.to, args.roots, { logger });
    opened.push(target);
    let status = 0;
    for (const root of args.roots) {
      const from = source.stores.get(root);
      const to = target.stores.get(root);
      if (from === undefined || to === undefined) throw new Error(`no store for ${root}`);
      const total = Object.values(await from.counts()).reduce((sum, byStatus) => sum + Object.values(byStatus).reduce((a, n) => a + (n ?? 0), 0), 0);
      const bar = new cliProgress.SingleBar(
        {
          format: `${root} [{bar}] {percentage}% | {value}/{total} jobs | {present} already there | {chains} chains`,
          stream: out,
          hideCursor: true,
          // Without a terminal (a CI log, a pipe), a line every 2 s instead of a redrawn bar.
          noTTYOutput: true,
          notTTYSchedule: 2000,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { present: 0, chains: 0 });
      const show = (progress: CopyProgress) =>
        bar.update(Math.min(progress.jobsRead, Math.max(total, progress.jobsRead)), { present: progress.jobsPresent, chains: progress.chainsRead });
      const outcome = await copyStore(from, to, { pageSize: args.pageSize, onProgress: show });
      bar.setTotal(Math.max(total, outcome.jobsRead));
      show(outcome);
      bar.stop();
      const copied = outcome.jobsRead - outcome.jobsPresent;
      out.write(`${root}: ${copied} jobs copied, ${outcome.jobsPresent} already there; ${outcome.chainsRead - outcome.chainsPresent} chains copied\n`);
      if (outcome.mismatches.length === 0) {
        out.write(`${root}: counts agree\n`);
      } else {
        status = 1;
        out.write(`${root}: counts differ (source → target):\n  ${outcome.mismatches.join('\n  ')}\n`);
      }
    }
    return status;
  } catch (error) {
    out.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  } finally {
    for (const stores of opened.reverse()) await stores.close();
  }
}
