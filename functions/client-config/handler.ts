/**
 * Lambda entry point: production wiring. Configuration is validated here, at cold start, and clients
 * (SSM, DynamoDB, Affix) are built once per container, never per request.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createAffixHttpClient } from './affix-client.ts';
import { createHandler } from './app.ts';
import { createBudgetPorts } from './budget.ts';
import { loadConfig } from './config.ts';
import { createCredentialsCache } from './credentials.ts';
import { createDynamoDbWriteLock } from './dynamodb-write-lock.ts';
import { logger, metrics } from './observability.ts';
import { createSsmCredentialsLoader } from './ssm-credentials.ts';

const config = loadConfig(process.env);
// Stages sharing an account keep their metrics (and the alarms on them) apart.
if (config.stage !== undefined) metrics.setDefaultDimensions({ stage: config.stage });

// Default endpoint resolution, so AWS_ENDPOINT_URL_SSM can point it at a local endpoint.
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

// Default endpoint resolution too (AWS_ENDPOINT_URL_DYNAMODB). Lease calls are single-item and fast:
// short timeouts, and few attempts, since the lease wait itself retries within the request deadline.
const dynamodb = new DynamoDBClient({
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 },
});

const writeLock = createDynamoDbWriteLock({
  client: dynamodb,
  tableName: config.stateTableName,
  leaseMs: config.writeLockLeaseMs,
  logger,
});

// The shared read cache, the shared back-off after a 429 and the outside-change watch (budget.ts).
const budget = createBudgetPorts({
  affix: affixHttp,
  credentials,
  client: dynamodb,
  tableName: config.stateTableName,
  cacheMaxAgeSeconds: config.clientCacheMaxAgeSeconds,
  logger,
  metrics,
});

export const handler = createHandler({
  config,
  ports: { affix: budget.affix, credentials, writeLock },
  reads: budget.reads,
  logger,
  metrics,
});
