/**
 * A Cumulus server in its own process, as users run it (`node --import tsx server/main.ts`), on
 * a fresh SQLite file, for the benchmarks: they measure it from outside, its memory included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export interface ServerProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>/websocket` */
  wsUrl: string;
  pid: number;
  /** The SQLite file it runs on (with `-wal` and `-shm` beside it). */
  databaseFile: string;
  /** The server's resident memory now, in MiB. */
  rssMiB(): number;
  /** SIGTERM, wait for the exit, remove the database. */
  stop(): Promise<void>;
}

/** Starts a server with `env` added to the defaults (a free port, a fresh file, warnings only). */
export async function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'cumulus-bench-'));
  // BENCH_PROFILE_DIR=<dir> writes a CPU profile of each server process there (open it in Chrome's DevTools).
  const profile = (process.env.BENCH_PROFILE_DIR ?? '') === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'server/main.ts'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'bench.db')}`, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A benchmark stopped midway (Ctrl-C, a timeout) must not leave its server running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = await listeningUrl(child);
  const pid = child.pid as number;
  // From here on only warnings and errors matter; the rest would fill the pipe.
  child.stdout?.resume();
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/websocket`,
    pid,
    databaseFile: join(dir, 'bench.db'),
    rssMiB: () => rssMiB(pid),
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the URL the server logs once it listens; rejects if it exits first. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split('\n')) {
        if (!line.startsWith('{')) continue;
        const url = (JSON.parse(line) as { url?: string }).url;
        if (url === undefined) continue;
        child.stdout?.off('data', onData);
        resolve(url);
        return;
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening: ${errors}`)));
  });
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}
