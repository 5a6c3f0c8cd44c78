/**
 * The rotation job's wiring: the client-config function's production ports (`wiring.ts`: SSM
 * credentials, Affix HTTP client behind the shared state, the write lease) plus the job's own (the
 * SSM secret store over the same SSM client, the secret verifier). The
 * Lambda handler, `npm run rotate` and the integration tests all run this same job.
 */
import { randomUUID } from 'node:crypto';
import { createProductionPorts } from '../client-config/wiring.ts';
import { METRIC } from '../contract/telemetry.ts';
import { createSsmSecretStore } from '../core/adapters/ssm-secret-store.ts';
import { logger, MetricUnit, metrics } from '../core/adapters/telemetry.ts';
import { createSecretVerifier } from '../core/adapters/verify-secret.ts';
import { createDeadline } from '../core/app/deadline.ts';
import { type RotationOutcome, RotationStuckError, rotate } from '../core/app/rotate.ts';
import { ROTATION_ACTOR } from '../core/domain/change-journal.ts';
import { ProblemError } from '../core/domain/problems.ts';
import { generateSecret } from '../core/domain/rotation-state.ts';
import type { RotationPorts } from '../core/ports.ts';
import { loadRotationConfig, type RotationConfig } from './config.ts';

/** What the schedule (or an on-demand invoke) sends: `force` starts a rotation even if not due. */
export interface RotationEvent {
  force?: boolean;
}

export interface RotationJob {
  readonly config: RotationConfig;
  readonly ports: RotationPorts;
  /** `runId`: the Lambda request id (a fresh one when absent), the journal's `request_id` of its changes. */
  run(event?: RotationEvent, remainingMs?: () => number, runId?: string): Promise<RotationOutcome>;
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
  const { ports: clientPorts, ssm, keeper } = createProductionPorts(config);
  const ports = wrap({
    // Through the shared state (wiring.ts): a rotation is a write of ours, never reported as an outside
    // change, it refreshes the view GET /client answers, and spends no request while Affix rate-limits us.
    ...clientPorts,
    secretStore: createSsmSecretStore({
      client: ssm,
      parameterName: config.clientSecretParameter,
      kmsKeyId: config.kmsKeyId,
    }),
    verifySecret: createSecretVerifier({
      baseUrl: config.affixBaseUrl,
      credentials: clientPorts.credentials,
      attemptTimeoutMs: config.upstreamAttemptTimeoutMs,
      maxAttempts: config.upstreamMaxAttempts,
      // Its GET is an Affix request of the rotation like any other: counted, and it refreshes the view.
      wrap: (affix) => keeper.affix(affix),
    }),
    generateSecret: () => generateSecret(),
    now: () => new Date(),
  });

  return {
    config,
    ports,
    async run(event = {}, remainingMs, runId = randomUUID()) {
      const settings = {
        graceSeconds: config.graceSeconds,
        intervalSeconds: config.intervalSeconds,
        force: event.force === true,
      };
      const context = () => ({
        deadline: createDeadline(config.upstreamDeadlineMs),
        // Rotation spends the writers' share of Affix's budget, which keeps one rotation in reserve.
        purpose: 'write' as const,
        // Journaled as the rotation's, under the run's id.
        author: { actor: ROTATION_ACTOR, requestId: runId },
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
