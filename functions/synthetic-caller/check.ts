/**
 * The synthetic check itself, without AWS glue: one signed `GET /client` through the API with the
 * typed client, and one metric saying whether it worked.
 *
 * It reads nothing it could leak: the answer's client is masked by the API, and on failure only
 * the error's slug and status are logged (a {@link ClientConfigError} carries no secret).
 *
 * @example
 * const result = await runSyntheticCheck({ client, metrics, logger });
 * result; // { ok: true } or { ok: false, slug: 'forbidden', status: 403 }
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type ClientConfigClient, ClientConfigError } from '../../clients/index.ts';
import { routeKeyOfOperation } from '../contract/routes.ts';
import { METRIC } from '../contract/telemetry.ts';

/** The route the check calls, as its log lines name it (runbooks search for them). */
const CHECKED_ROUTE = routeKeyOfOperation('getClient');

/** 1 when `GET /client` answered 200 with a valid client, else 0 (the alarm watches its sum). */
export const SYNTHETIC_SUCCESS_METRIC = METRIC.syntheticSuccess;
/** How long the whole call took, success or not. */
export const SYNTHETIC_LATENCY_METRIC = METRIC.syntheticLatency;

export type SyntheticResult = { ok: true } | { ok: false; slug: string; status: number | undefined };

export interface SyntheticCheckDeps {
  client: Pick<ClientConfigClient, 'getClient'>;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

export async function runSyntheticCheck(deps: SyntheticCheckDeps): Promise<SyntheticResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  let result: SyntheticResult;
  try {
    await deps.client.getClient();
    result = { ok: true };
  } catch (error) {
    // Only our client's typed errors are described; anything else is a bug here, not in the API.
    result =
      error instanceof ClientConfigError
        ? { ok: false, slug: error.slug, status: error.status }
        : { ok: false, slug: 'synthetic-caller-bug', status: undefined };
  }
  deps.metrics.addMetric(SYNTHETIC_SUCCESS_METRIC, MetricUnit.Count, result.ok ? 1 : 0);
  deps.metrics.addMetric(SYNTHETIC_LATENCY_METRIC, MetricUnit.Milliseconds, now() - started);
  if (result.ok) deps.logger.info(`synthetic ${CHECKED_ROUTE} succeeded`);
  else
    deps.logger.error(`synthetic ${CHECKED_ROUTE} failed`, {
      slug: result.slug,
      status: result.status ?? null,
    });
  return result;
}
