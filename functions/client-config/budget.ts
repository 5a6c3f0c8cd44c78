/**
 * Production wiring of the rate-budget pieces around the Affix port: the outside-change watch (next to
 * Affix, so it sees every read and write that reached it), the shared back-off around that, and the
 * shared read cache for `GET /client`. All three keep their state in the state table.
 *
 * @example
 * const budget = createBudgetPorts({ affix: http, credentials, client: dynamodb, tableName, ... });
 * createHandler({ ..., ports: { affix: budget.affix, ... }, reads: budget.reads });
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { METRIC } from '../contract/telemetry.ts';
import { type ClientReads, createClientReads } from './client-reads.ts';
import {
  createDynamoDbBackoffStore,
  createDynamoDbLastSeenStore,
  createDynamoDbReadCache,
} from './dynamodb-budget-state.ts';
import { withOutsideChangeWatch } from './outside-change.ts';
import type { AffixPort, CredentialsProvider } from './ports.ts';
import { withSharedBackoff } from './rate-limit-backoff.ts';

export interface BudgetAffixOptions {
  affix: AffixPort;
  credentials: Pick<CredentialsProvider, 'get'>;
  client: DynamoDBClient;
  tableName: string;
  logger: Pick<Logger, 'warn'>;
  metrics: Metrics;
  now?: () => number;
}

export interface BudgetPortsOptions extends BudgetAffixOptions {
  /** `CLIENT_CACHE_MAX_AGE_SECONDS`; 0 turns the read cache off (back-off and watch stay on). */
  cacheMaxAgeSeconds: number;
}

/** What may be logged of a store failure: names and statuses, never a message (it can echo values). */
function describeFailure(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: typeof error };
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return { error: error.name, ...(typeof status === 'number' ? { status } : {}) };
}

function storeFailureLogger(logger: Pick<Logger, 'warn'>) {
  return (item: string) => (operation: string, error: unknown) => {
    logger.warn('budget state unavailable', { budgetState: { item, operation, ...describeFailure(error) } });
  };
}

/**
 * The Affix port every reader and writer of the client uses (the function and the rotation job): the
 * outside-change watch next to Affix, the shared back-off around it.
 */
export function createBudgetAffix(options: BudgetAffixOptions): AffixPort {
  const store = { client: options.client, tableName: options.tableName, now: options.now };
  // One instance per container, publishing each metric with only the default dimensions.
  const single = options.metrics.singleMetric();
  const storeFailed = storeFailureLogger(options.logger);
  const watched = withOutsideChangeWatch(options.affix, {
    store: createDynamoDbLastSeenStore(store),
    credentials: options.credentials,
    now: options.now,
    onStoreFailure: storeFailed('last-seen'),
    report: (fields) => {
      // Names only: the values (a secret among them) were never stored, and are not logged.
      options.logger.warn('outside change', { outsideChange: { fields } });
      single.addMetric(METRIC.outsideChange, MetricUnit.Count, 1);
    },
  });
  return withSharedBackoff(watched, {
    store: createDynamoDbBackoffStore(store),
    now: options.now,
    onStoreFailure: storeFailed('rate-limit'),
  });
}

/** The function's budget ports: {@link createBudgetAffix}, and the shared read cache of `GET /client`. */
export function createBudgetPorts(options: BudgetPortsOptions): { affix: AffixPort; reads: ClientReads } {
  const single = options.metrics.singleMetric();
  const storeFailed = storeFailureLogger(options.logger);
  const reads = createClientReads({
    store: createDynamoDbReadCache({
      client: options.client,
      tableName: options.tableName,
      now: options.now,
    }),
    maxAgeSeconds: options.cacheMaxAgeSeconds,
    now: options.now,
    onStoreFailure: (operation, error) => {
      storeFailed('read-cache')(operation, error);
      single.addMetric(METRIC.clientCacheFailure, MetricUnit.Count, 1);
    },
  });
  return { affix: createBudgetAffix(options), reads };
}
