/**
 * The one integer-from-env rule for the local tools (`npm start`, the pool, the bench): the function's
 * own (`integerFromEnv` in `functions/core/adapters/config.ts`, pure valibot, no AWS imports), so the
 * wording and the bounds check are the same everywhere. One local difference: an empty variable counts
 * as unset (`PORT= npm start` means the default), as the local tools always did.
 *
 * @example
 * ```ts
 * parseIntegerVariable('PORT', process.env.PORT, 3000, 0, 65_535); // 3000 when unset
 * ```
 */
import * as v from 'valibot';
import { ConfigError, integerFromEnv } from '../functions/core/adapters/config.ts';

/** `raw` as a whole number within `[min, max]`, `fallback` when unset or empty; else a ConfigError naming `name`. */
export function parseIntegerVariable(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const result = v.safeParse(integerFromEnv(name, fallback, min, max), raw === '' ? undefined : raw);
  if (result.success) return result.output;
  // These variables hold ports, counts and delays, never a secret: the value helps the reader.
  throw new ConfigError(`${result.issues[0].message}, got ${JSON.stringify(raw)}`);
}
