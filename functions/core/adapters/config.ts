/**
 * Runtime configuration, parsed and validated once at cold start.
 *
 * A bad value throws a {@link ConfigError} naming the variable, which fails the Lambda's init phase
 * loudly instead of turning every request into a 500.
 *
 * @example
 * const config = loadConfig(process.env);
 * config.upstreamDeadlineMs; // 10000 unless UPSTREAM_DEADLINE_MS says otherwise
 */
import * as v from 'valibot';
import { checkUrl, URL_RULE_MESSAGES } from '../../contract/urls.ts';
import { DEFAULT_JOURNAL_RETENTION_DAYS } from '../domain/change-journal.ts';
import { DEFAULT_AFFIX_LIMIT, DEFAULT_LEASE_SECONDS, WRITER_RESERVE } from '../domain/state-item.ts';

/** API Gateway REST integrations give up after 29 s; our own deadline must end well before that. */
export const MAX_UPSTREAM_DEADLINE_MS = 25_000;

/**
 * The request deadline ends this long before Lambda's timeout at the least; half of it is where the
 * backstop answers 504 (see `deadline.ts`), so at least 250 ms separate the last possible Affix send
 * from any 504, and 250 ms more separate that answer from Lambda's kill.
 */
export const MIN_DEADLINE_SAFETY_MARGIN_MS = 500;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A whole number from the environment, with a default and bounds; messages name the variable. */
export const integerFromEnv = (name: string, fallback: number, min: number, max: number) =>
  v.pipe(
    v.optional(v.string(), String(fallback)),
    v.trim(),
    v.regex(/^\d+$/, `${name} must be a whole number`),
    v.transform(Number),
    v.minValue(min, `${name} must be at least ${min}`),
    v.maxValue(max, `${name} must be at most ${max}`),
  );

const ssmParameterName = (name: string) =>
  v.pipe(
    v.string(`${name} is required`),
    v.trim(),
    v.nonEmpty(`${name} is required`),
    v.maxLength(2048, `${name} is too long`),
    v.regex(/^[a-zA-Z0-9_.\-/]+$/, `${name} must be an SSM parameter name such as /affix/dev/client-id`),
  );

const dynamoDbTableName = (name: string) =>
  v.pipe(
    v.string(`${name} is required`),
    v.trim(),
    v.nonEmpty(`${name} is required`),
    v.regex(/^[a-zA-Z0-9_.-]{3,255}$/, `${name} must be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)`),
  );

const affixBaseUrl = v.pipe(
  v.string('AFFIX_BASE_URL is required'),
  v.trim(),
  v.nonEmpty('AFFIX_BASE_URL is required'),
  // The same URL rule as the request bodies' (urls.ts), without a query: paths are appended to it.
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const result = checkUrl(dataset.value, { allowLoopbackHttp: true });
    if (result.ok) return result.url;
    addIssue({ message: `AFFIX_BASE_URL ${URL_RULE_MESSAGES[result.reason]}` });
    return NEVER;
  }),
  // Joined with the API paths later, so keep no trailing slash.
  v.transform((value) => value.replace(/\/+$/, '')),
);

const EnvEntries = {
  AFFIX_BASE_URL: affixBaseUrl,
  AFFIX_CLIENT_ID_PARAMETER: ssmParameterName('AFFIX_CLIENT_ID_PARAMETER'),
  AFFIX_CLIENT_SECRET_PARAMETER: ssmParameterName('AFFIX_CLIENT_SECRET_PARAMETER'),
  ETAG_KEY_PARAMETER: ssmParameterName('ETAG_KEY_PARAMETER'),
  CREDENTIALS_MAX_AGE_SECONDS: integerFromEnv('CREDENTIALS_MAX_AGE_SECONDS', 300, 1, 86_400),
  UPSTREAM_ATTEMPT_TIMEOUT_MS: integerFromEnv(
    'UPSTREAM_ATTEMPT_TIMEOUT_MS',
    5_000,
    50,
    MAX_UPSTREAM_DEADLINE_MS,
  ),
  UPSTREAM_DEADLINE_MS: integerFromEnv('UPSTREAM_DEADLINE_MS', 10_000, 100, MAX_UPSTREAM_DEADLINE_MS),
  UPSTREAM_MAX_ATTEMPTS: integerFromEnv('UPSTREAM_MAX_ATTEMPTS', 3, 1, 5),
  DEADLINE_SAFETY_MARGIN_MS: integerFromEnv(
    'DEADLINE_SAFETY_MARGIN_MS',
    1_000,
    MIN_DEADLINE_SAFETY_MARGIN_MS,
    10_000,
  ),
  STATE_TABLE_NAME: dynamoDbTableName('STATE_TABLE_NAME'),
  WRITE_LOCK_LEASE_SECONDS: integerFromEnv('WRITE_LOCK_LEASE_SECONDS', DEFAULT_LEASE_SECONDS, 1, 900),
  CLIENT_CACHE_MAX_AGE_SECONDS: integerFromEnv('CLIENT_CACHE_MAX_AGE_SECONDS', 30, 0, 3_600),
  // Affix's per-client limit; never below what writers and rotation keep (state-item.ts).
  AFFIX_REQUESTS_PER_5_MINUTES: integerFromEnv(
    'AFFIX_REQUESTS_PER_5_MINUTES',
    DEFAULT_AFFIX_LIMIT,
    WRITER_RESERVE,
    1_000_000,
  ),
  // Ten years at most: entries are small, but a journal nobody reads must not grow without end.
  JOURNAL_RETENTION_DAYS: integerFromEnv('JOURNAL_RETENTION_DAYS', DEFAULT_JOURNAL_RETENTION_DAYS, 1, 3_650),
  STAGE: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(64, 'STAGE is too long'))),
};

const EnvSchema = v.pipe(
  v.object(EnvEntries),
  v.forward(
    v.check(
      (env) => env.UPSTREAM_ATTEMPT_TIMEOUT_MS <= env.UPSTREAM_DEADLINE_MS,
      'UPSTREAM_ATTEMPT_TIMEOUT_MS must not exceed UPSTREAM_DEADLINE_MS',
    ),
    ['UPSTREAM_ATTEMPT_TIMEOUT_MS'],
  ),
  // The ETag key is a secret of its own: neither Affix value may double as it.
  v.forward(
    v.check(
      (env) =>
        env.ETAG_KEY_PARAMETER !== env.AFFIX_CLIENT_SECRET_PARAMETER &&
        env.ETAG_KEY_PARAMETER !== env.AFFIX_CLIENT_ID_PARAMETER,
      'ETAG_KEY_PARAMETER must name its own parameter, not an Affix credential',
    ),
    ['ETAG_KEY_PARAMETER'],
  ),
);

export interface Config {
  readonly affixBaseUrl: string;
  readonly clientIdParameter: string;
  readonly clientSecretParameter: string;
  readonly etagKeyParameter: string;
  readonly credentialsMaxAgeMs: number;
  readonly upstreamAttemptTimeoutMs: number;
  readonly upstreamDeadlineMs: number;
  readonly upstreamMaxAttempts: number;
  readonly deadlineSafetyMarginMs: number;
  /** DynamoDB table of the write lease (and later other shared state). */
  readonly stateTableName: string;
  /** The configured write lease; every lease also outlives its invocation (`leaseDurationMs`). */
  readonly writeLockLeaseMs: number;
  /** The shared read cache's window for `GET /client`; 0 turns the cache off. */
  readonly clientCacheMaxAgeSeconds: number;
  /** Affix's requests per client id per 5 minutes: the shared budget's size. */
  readonly affixRequestsPerWindow: number;
  /** How long the change journal keeps an entry (its items' TTL). */
  readonly journalRetentionDays: number;
  readonly stage: string | undefined;
}

/** Parses the environment; throws {@link ConfigError} listing every bad variable by name. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // abortPipeEarly: once a variable fails one rule, later rules of the same variable are not run.
  // Every known name present, unset ones as undefined: a missing key then gets its variable's own
  // message ("X is required") instead of valibot's generic "Invalid key: Expected ...".
  const known = Object.fromEntries(Object.keys(EnvEntries).map((name) => [name, env[name]]));
  const result = v.safeParse(EnvSchema, known, { abortPipeEarly: true });
  if (!result.success) {
    // Messages name the variable; values are never echoed (a misplaced secret must not reach the logs).
    const messages = result.issues.map((issue) => issue.message);
    throw new ConfigError(`Invalid configuration: ${[...new Set(messages)].join('; ')}`);
  }
  const parsed = result.output;
  return {
    affixBaseUrl: parsed.AFFIX_BASE_URL,
    clientIdParameter: parsed.AFFIX_CLIENT_ID_PARAMETER,
    clientSecretParameter: parsed.AFFIX_CLIENT_SECRET_PARAMETER,
    etagKeyParameter: parsed.ETAG_KEY_PARAMETER,
    credentialsMaxAgeMs: parsed.CREDENTIALS_MAX_AGE_SECONDS * 1_000,
    upstreamAttemptTimeoutMs: parsed.UPSTREAM_ATTEMPT_TIMEOUT_MS,
    upstreamDeadlineMs: parsed.UPSTREAM_DEADLINE_MS,
    upstreamMaxAttempts: parsed.UPSTREAM_MAX_ATTEMPTS,
    deadlineSafetyMarginMs: parsed.DEADLINE_SAFETY_MARGIN_MS,
    stateTableName: parsed.STATE_TABLE_NAME,
    writeLockLeaseMs: parsed.WRITE_LOCK_LEASE_SECONDS * 1_000,
    clientCacheMaxAgeSeconds: parsed.CLIENT_CACHE_MAX_AGE_SECONDS,
    affixRequestsPerWindow: parsed.AFFIX_REQUESTS_PER_5_MINUTES,
    journalRetentionDays: parsed.JOURNAL_RETENTION_DAYS,
    stage: parsed.STAGE === '' ? undefined : parsed.STAGE,
  };
}
