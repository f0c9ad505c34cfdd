/**
 * Polls until a condition holds, so tests wait for a state instead of sleeping a fixed time.
 */
export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error. */
  description?: string;
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 2000, intervalMs = 5, description = 'condition' }: WaitForOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new Error(`waitFor: ${description} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
