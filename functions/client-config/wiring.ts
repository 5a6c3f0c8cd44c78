/**
 * The production ports, built once per container: the SSM client and the credentials cache over it,
 * the Affix HTTP client behind the rate-budget pieces (the outside-change watch and the shared
 * back-off, `budget.ts`), the shared read cache of `GET /client`, and the DynamoDB write lock. The client-config entry (`handler.ts`), the
 * rotation job (`secret-rotation/job.ts`) and the bench entry without the lock
 * (`bench/fixtures/no-lock-handler.ts`) all take them from here, so they cannot be wired apart.
 *
 * Both AWS clients use default endpoint resolution, so `AWS_ENDPOINT_URL_SSM` and
 * `AWS_ENDPOINT_URL_DYNAMODB` point them at local endpoints.
 *
 * @example
 * const { ports } = createProductionPorts(loadConfig(process.env));
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createAffixHttpClient } from './affix-http.ts';
import { createBudgetPorts } from './budget.ts';
import type { ClientReads } from './client-reads.ts';
import type { Config } from './config.ts';
import { createCredentialsCache } from './credentials.ts';
import { createDynamoDbWriteLock } from './dynamodb-write-lock.ts';
import { logger, metrics } from './observability.ts';
import type { Ports, WriteLock } from './ports.ts';
import { createSsmCredentialsLoader } from './ssm-credentials.ts';

export type WiringConfig = Pick<
  Config,
  | 'affixBaseUrl'
  | 'clientIdParameter'
  | 'clientSecretParameter'
  | 'etagKeyParameter'
  | 'credentialsMaxAgeMs'
  | 'upstreamAttemptTimeoutMs'
  | 'upstreamMaxAttempts'
  | 'stateTableName'
  | 'writeLockLeaseMs'
> &
  Partial<Pick<Config, 'clientCacheMaxAgeSeconds'>>;

export interface WiringOverrides {
  /** Replaces the DynamoDB lease (the bench's lock-free entry); the budget items still use DynamoDB. */
  writeLock?: WriteLock;
}

export interface ProductionPorts {
  ports: Ports;
  /** `GET /client`'s shared read cache (off when `clientCacheMaxAgeSeconds` is 0 or not given). */
  reads: ClientReads;
  /** The one SSM client: the rotation job writes the secret parameter with it too. */
  ssm: SSMClient;
}

export function createProductionPorts(
  config: WiringConfig,
  overrides: WiringOverrides = {},
): ProductionPorts {
  const ssm = new SSMClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
  });
  const credentials = createCredentialsCache({
    load: createSsmCredentialsLoader({
      client: ssm,
      clientIdParameter: config.clientIdParameter,
      clientSecretParameter: config.clientSecretParameter,
      etagKeyParameter: config.etagKeyParameter,
    }),
    maxAgeMs: config.credentialsMaxAgeMs,
  });
  const affixHttp = createAffixHttpClient({
    baseUrl: config.affixBaseUrl,
    credentials,
    attemptTimeoutMs: config.upstreamAttemptTimeoutMs,
    maxAttempts: config.upstreamMaxAttempts,
  });
  // Single-item calls, fast: short timeouts, and few attempts, since the lease wait itself retries
  // within the request deadline and the budget items degrade to reading Affix.
  const dynamodb = new DynamoDBClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 },
  });
  const budget = createBudgetPorts({
    affix: affixHttp,
    credentials,
    client: dynamodb,
    tableName: config.stateTableName,
    cacheMaxAgeSeconds: config.clientCacheMaxAgeSeconds ?? 0,
    logger,
    metrics,
  });
  const writeLock =
    overrides.writeLock ??
    createDynamoDbWriteLock({
      client: dynamodb,
      tableName: config.stateTableName,
      leaseMs: config.writeLockLeaseMs,
      logger,
    });
  return { ports: { affix: budget.affix, credentials, writeLock }, reads: budget.reads, ssm };
}
