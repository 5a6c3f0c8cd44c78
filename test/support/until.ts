/**
 * Polls a condition until it holds: for a test waiting on something another process or server does
 * (a request reaching the sandbox, a child's output), where there is no event to await.
 *
 * @example
 * await until(() => sandbox.requests.length === 1, { timeoutMs: 30_000, pollMs: 2 });
 */
export async function until(
  condition: () => boolean,
  { timeoutMs = Number.POSITIVE_INFINITY, pollMs = 5 }: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
