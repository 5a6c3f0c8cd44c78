/**
 * The rotation job's configuration: the client-config function's (Affix URL, parameters, state table,
 * timeouts) plus its own. Parsed once at cold start; a bad value names the variable, never a value.
 */
import * as v from 'valibot';
import { type Config, ConfigError, integerFromEnv, loadConfig } from '../core/adapters/config.ts';

export const DEFAULT_GRACE_SECONDS = 86_400;
export const DEFAULT_INTERVAL_DAYS = 30;

const RotationEnvSchema = v.object({
  // At most 30 days: the old secret must not outlive the next scheduled rotation.
  ROTATION_GRACE_SECONDS: integerFromEnv('ROTATION_GRACE_SECONDS', DEFAULT_GRACE_SECONDS, 0, 30 * 86_400),
  ROTATION_INTERVAL_DAYS: integerFromEnv('ROTATION_INTERVAL_DAYS', DEFAULT_INTERVAL_DAYS, 1, 365),
  SECRET_KMS_KEY_ID: v.optional(
    v.pipe(v.string(), v.trim(), v.maxLength(2048, 'SECRET_KMS_KEY_ID is too long')),
  ),
});

export interface RotationConfig extends Config {
  readonly graceSeconds: number;
  readonly intervalSeconds: number;
  readonly kmsKeyId: string | undefined;
}

export function loadRotationConfig(env: Record<string, string | undefined>): RotationConfig {
  const base = loadConfig(env);
  const result = v.safeParse(RotationEnvSchema, env, { abortPipeEarly: true });
  if (!result.success) {
    throw new ConfigError(
      `Invalid configuration: ${[...new Set(result.issues.map((i) => i.message))].join('; ')}`,
    );
  }
  const parsed = result.output;
  return {
    ...base,
    graceSeconds: parsed.ROTATION_GRACE_SECONDS,
    intervalSeconds: parsed.ROTATION_INTERVAL_DAYS * 86_400,
    kmsKeyId: parsed.SECRET_KMS_KEY_ID === '' ? undefined : parsed.SECRET_KMS_KEY_ID,
  };
}
