/**
 * The rotation job's wiring: SSM, DynamoDB and Affix clients built once, the client-config
 * function's modules reused (Affix HTTP client, SSM credentials loader, DynamoDB write lock). The
 * Lambda handler, `npm run rotate` and the integration tests all run this same job.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createAffixHttpClient } from '../client-config/affix-client.ts';
import { createBudgetAffix } from '../client-config/budget.ts';
import { createCredentialsCache } from '../client-config/credentials.ts';
import { createDeadline } from '../client-config/deadline.ts';
import { createDynamoDbWriteLock } from '../client-config/dynamodb-write-lock.ts';
import { logger, MetricUnit, metrics } from '../client-config/observability.ts';
import { ProblemError } from '../client-config/problems.ts';
import { createSsmCredentialsLoader } from '../client-config/ssm-credentials.ts';
import { METRIC } from '../contract/telemetry.ts';
import { loadRotationConfig, type RotationConfig } from './config.ts';
import { type RotationOutcome, type RotationPorts, RotationStuckError, rotate } from './rotate.ts';
import { generateSecret } from './rotation-state.ts';
import { createSsmSecretStore } from './ssm-secret-store.ts';
import { createSecretVerifier } from './verify-secret.ts';

/** What the schedule (or an on-demand invoke) sends: `force` starts a rotation even if not due. */
export interface RotationEvent {
  force?: boolean;
}

export interface RotationJob {
  readonly config: RotationConfig;
  readonly ports: RotationPorts;
  run(event?: RotationEvent, remainingMs?: () => number): Promise<RotationOutcome>;
}

/** A failure's kind, never its message beyond our own words: problem slug or error name. */
function failureReason(error: unknown): string {
  if (error instanceof ProblemError) return error.slug;
  if (error instanceof RotationStuckError) return error.reason;
  return error instanceof Error ? error.name : 'UnknownError';
}

export function createRotationJob(
  env: Record<string, string | undefined>,
  wrap: (ports: RotationPorts) => RotationPorts = (ports) => ports,
): RotationJob {
  const config = loadRotationConfig(env);
  if (config.stage !== undefined) metrics.setDefaultDimensions({ stage: config.stage });
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
  const affixOptions = {
    baseUrl: config.affixBaseUrl,
    attemptTimeoutMs: config.upstreamAttemptTimeoutMs,
    maxAttempts: config.upstreamMaxAttempts,
  };
  const dynamodb = new DynamoDBClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 },
  });
  const ports = wrap({
    // Through the shared back-off and the outside-change watch: a rotation is a write of ours, never
    // reported as an outside change, and it spends no request while Affix rate-limits us.
    affix: createBudgetAffix({
      affix: createAffixHttpClient({ ...affixOptions, credentials }),
      credentials,
      client: dynamodb,
      tableName: config.stateTableName,
      logger,
      metrics,
    }),
    credentials,
    writeLock: createDynamoDbWriteLock({
      client: dynamodb,
      tableName: config.stateTableName,
      leaseMs: config.writeLockLeaseMs,
      logger,
    }),
    secretStore: createSsmSecretStore({
      client: ssm,
      parameterName: config.clientSecretParameter,
      kmsKeyId: config.kmsKeyId,
    }),
    verifySecret: createSecretVerifier({ ...affixOptions, credentials }),
    generateSecret: () => generateSecret(),
    now: () => new Date(),
  });

  return {
    config,
    ports,
    async run(event = {}, remainingMs) {
      const settings = {
        graceSeconds: config.graceSeconds,
        intervalSeconds: config.intervalSeconds,
        force: event.force === true,
      };
      const context = () => ({
        deadline: createDeadline(config.upstreamDeadlineMs),
        ...(remainingMs === undefined ? {} : { invocationRemainingMs: remainingMs }),
      });
      try {
        const outcome = await rotate(ports, settings, context, (audit) =>
          logger.info('rotation audit', { rotation: audit }),
        );
        logger.info('rotation finished', { rotation: outcome });
        metrics.addMetric(METRIC.rotationFailure, MetricUnit.Count, 0);
        metrics.addMetric(METRIC.rotationOutcome, MetricUnit.Count, outcome.outcome === 'rotated' ? 1 : 0);
        return outcome;
      } catch (error) {
        // The client keeps a working secret: every step leaves SSM's value at Affix (see rotate.ts).
        logger.error('rotation failed', { rotation: { reason: failureReason(error) } });
        metrics.addMetric(METRIC.rotationFailure, MetricUnit.Count, 1);
        throw new Error(`rotation failed: ${failureReason(error)}`);
      } finally {
        metrics.publishStoredMetrics();
      }
    },
  };
}
