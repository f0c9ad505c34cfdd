/**
 * The test-hygiene guard: every test file fails if it leaves a server, a socket, a timer or a
 * tracked resource (a job context, a worker queue…) open when its tests are done. `npm test`
 * preloads this module into each test file's process (`--import`), where it registers one
 * `after` hook on the file's root test.
 *
 * Open handles are read with `process.getActiveResourcesInfo()`, which lists only what keeps
 * the process alive (unref'd timers do not count). A leak would otherwise also keep the test
 * file's process from exiting, so after reporting it the guard ends the process.
 */
import { after } from 'node:test';

interface Tracked {
  description: string;
  isClosed: () => boolean;
}

const tracked = new Set<Tracked>();

/** Handles every test process has: its standard streams. */
const expectedHandles = new Set(['PipeWrap', 'TTYWrap']);

/** How long closing handles may take to go (a socket's close handshake, say) before they count as leaked. */
const settleMs = 2000;

/** Registers something a test must close; `isClosed` says whether it was. */
export function trackResource(description: string, isClosed: () => boolean): void {
  tracked.add({ description, isClosed });
}

/** What is still open: tracked resources first, then handles, waiting up to `settleMs` for closing ones. */
export async function findLeaks(): Promise<string[]> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const open = [...tracked].filter((resource) => !resource.isClosed()).map((resource) => resource.description);
    const handles = process.getActiveResourcesInfo().filter((name) => !expectedHandles.has(name));
    if ((open.length === 0 && handles.length === 0) || Date.now() >= deadline) return [...open, ...describeHandles(handles)];
    // A ref'd timer: with nothing else left, an unref'd one would let the process end mid-check.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function describeHandles(names: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${count} × ${name}`);
}

// Only in a test file's own process: the runner's parent process runs no tests.
if (process.env.NODE_TEST_CONTEXT?.startsWith('child') === true) {
  after(async () => {
    const leaks = await findLeaks();
    if (leaks.length === 0) return;
    // The leaked handles would keep this process alive: let the report go out, then end it.
    setTimeout(() => process.exit(1), 1000).unref();
    throw new Error(`This test file left resources open: ${leaks.join(', ')}. Close them in an after/afterEach hook.`);
  });
}
