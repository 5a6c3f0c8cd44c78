/**
 * The production ports, built once per container: the SSM client and the credentials cache over it,
 * the Affix HTTP client behind the shared state (`shared-state.ts`: view, budget, back-off and
 * outside-change watch on one DynamoDB item), the write lease on that same item, `GET /client`'s
 * reads over the view, and the change journal's reader (`GET /client/changes`). The client-config
 * entry (`handler.ts`), the rotation job (`secret-rotation/job.ts`) and the bench entry without the
 * lock (`bench/fixtures/no-lock-handler.ts`) all take them from here, so they cannot be wired apart.
 *
 * Both AWS clients use default endpoint resolution, so `AWS_ENDPOINT_URL_SSM` and
 * `AWS_ENDPOINT_URL_DYNAMODB` point them at local endpoints.
 *
 * @example
 * const { ports } = createProductionPorts(loadConfig(process.env));
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { METRIC } from '../contract/telemetry.ts';
import { createAffixHttpClient } from '../core/adapters/affix-http.ts';
import type { Config } from '../core/adapters/config.ts';
import { createDynamoDbJournal } from '../core/adapters/dynamodb-journal.ts';
import { createDynamoDbStateStore } from '../core/adapters/dynamodb-state.ts';
import { createSsmCredentialsLoader } from '../core/adapters/ssm-credentials.ts';
import { createDestinationTelemetry, logger, metrics } from '../core/adapters/telemetry.ts';
import { type ClientReads, createClientReads } from '../core/app/client-reads.ts';
import { createCredentialsCache } from '../core/app/credentials.ts';
import { describeFailure } from '../core/app/failure-summary.ts';
import { createLeaseWriteLock, createSharedState, type SharedStateKeeper } from '../core/app/shared-state.ts';
import type { ChangeJournalReader, Ports, WriteLock } from '../core/ports.ts';

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
  Partial<Pick<Config, 'clientCacheMaxAgeSeconds' | 'affixRequestsPerWindow' | 'journalRetentionDays'>>;

export interface WiringOverrides {
  /** Replaces the DynamoDB lease (the bench's lock-free entry); the shared state still uses DynamoDB. */
  writeLock?: WriteLock;
}

export interface ProductionPorts {
  ports: Ports;
  /** `GET /client` over the shared view (fresh for `clientCacheMaxAgeSeconds`, 0 = always ask Affix). */
  reads: ClientReads;
  /** The shared state: the rotation job wraps its secret check's Affix client with it too. */
  keeper: SharedStateKeeper;
  /** The one SSM client: the rotation job writes the secret parameter with it too. */
  ssm: SSMClient;
  /** `GET /client/changes`: the change journal in the state table. */
  journal: ChangeJournalReader;
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
  // within the request deadline and the shared state degrades to reading Affix.
  const dynamodb = new DynamoDBClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 },
  });
  // The store appends the change journal too: every accepted change, in its release's request.
  const store = createDynamoDbStateStore({
    client: dynamodb,
    tableName: config.stateTableName,
    ...(config.journalRetentionDays === undefined
      ? {}
      : { journalRetentionDays: config.journalRetentionDays }),
  });
  // One instance per container, publishing each metric with only the default dimensions.
  const single = metrics.singleMetric();
  const destinations = createDestinationTelemetry(metrics);
  const keeper = createSharedState({
    store,
    credentials,
    ...(config.affixRequestsPerWindow === undefined ? {} : { limit: config.affixRequestsPerWindow }),
    report: (fields) => {
      // Names only: the values (a secret among them) were never stored, and are not logged.
      logger.warn('outside change', { outsideChange: { fields } });
      single.addMetric(METRIC.outsideChange, MetricUnit.Count, 1);
      destinations.record(fields);
    },
    onStoreFailure: (operation, error) => {
      logger.warn('shared state unavailable', { sharedState: { operation, ...describeFailure(error) } });
      single.addMetric(METRIC.clientCacheFailure, MetricUnit.Count, 1);
    },
    onRefused: (parts) => logger.warn('shared state refused', { sharedState: { refused: parts } }),
  });
  const writeLock =
    overrides.writeLock ?? createLeaseWriteLock({ store, keeper, leaseMs: config.writeLockLeaseMs, logger });
  return {
    ports: {
      affix: keeper.affix(affixHttp),
      credentials,
      writeLock,
      recordedSecrets: { digest: async (call) => (await keeper.state(call)).seen?.fields.client_secret },
    },
    reads: createClientReads({ state: keeper.state, maxAgeSeconds: config.clientCacheMaxAgeSeconds ?? 0 }),
    keeper,
    ssm,
    journal: createDynamoDbJournal({ client: dynamodb, tableName: config.stateTableName, logger }),
  };
}
