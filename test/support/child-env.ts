/**
 * The environment for a child that runs the local stack's CLI (`npm start`, `npm run rotate`, `tsx
 * local/start.ts`): this process's own, with V8's code cache on (`NODE_COMPILE_CACHE`), so each child
 * after the first compiles tsx, dynalite and the AWS SDK from the cache an earlier one wrote instead of
 * from source. Compiled code only, keyed by source content: a stale entry is recompiled, never run.
 *
 * @example
 * spawn('npm', ['start'], { env: cliChildEnv({ PORT: '0' }) });
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The run's own cache when it has one (`npm test` sets one for its workers), else one folder for every
 * run of the suites on this machine.
 */
export const CHILD_COMPILE_CACHE =
  process.env.NODE_COMPILE_CACHE || join(tmpdir(), 'affix-webhook-config-compile-cache');

export function cliChildEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return { ...process.env, NODE_COMPILE_CACHE: CHILD_COMPILE_CACHE, ...overrides };
}
