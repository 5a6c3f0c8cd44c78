/**
 * Everything we log and count: the function's one Powertools Logger and one Metrics instance, every
 * metric we emit and the audit line. One module, so a metric's name, dimensions and emitting code sit
 * together (the alarms and dashboards in `infra/` read these names from `contract/telemetry.ts`).
 *
 * - Per request (`requestTelemetry`, a middy middleware): `RequestOutcome` by `outcome`, the upstream
 *   latency and the lock wait, the visible rate budget (one `AffixRequests` per Affix exchange by
 *   `method` and `outcome`; `ClientCacheHit` 1/0 per `GET /client` while the cache is on;
 *   `RateLimitBackoff` when the shared back-off answered), `ServerErrorAnswers` by `ExecutedVersion`
 *   for an answer of 500 or above, and one audit line for every write attempt.
 * - Per change: `DestinationChange` by `field` per changed destination field (`webhook_uri`,
 *   `redirect_uris`), once per write through the proxy and once per outside change.
 *
 * A metric with a dimension of its own is published in a blob of its own (a single-metric instance),
 * so no dimension multiplies another metric's series; the metrics of the default dimensions only
 * (service, stage) share one blob per request. The event is never logged (it may hold
 * secrets); log lines carry only what we put in them.
 *
 * @example
 * export const handler = createHandler({ config, ports, logger, metrics }); // app.ts uses requestTelemetry
 */

import type { Writable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ROUTES, type RouteKey, routeKeyOf } from '../../contract/routes.ts';
import {
  DESTINATION_FIELD_DIMENSION,
  DESTINATION_FIELDS,
  EXECUTED_VERSION_DIMENSION,
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../../contract/telemetry.ts';
import type { AnsweredFrom, BudgetNotes } from '../domain/budget-notes.ts';
import type { UpstreamExchange } from '../ports.ts';
import type { ProxyMiddleware, ProxyRequest, RequestState } from './middlewares.ts';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;

/** The function's one Logger. */
export const logger = new Logger({ serviceName });

/** The function's one Metrics instance; `requestTelemetry` publishes what a request stored on it. */
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
});

export { MetricUnit };

// The visible rate budget.

/** Where the answer came from; `null` when nothing was asked of Affix, the cache or the back-off. */
export function answeredFrom(
  budget: BudgetNotes,
  exchanges: readonly UpstreamExchange[],
): AnsweredFrom | null {
  if (budget.answeredFrom !== undefined) return budget.answeredFrom;
  return exchanges.length > 0 ? 'affix' : null;
}

export function createBudgetTelemetry(metrics: Metrics) {
  // Built once per container (singleMetric() builds a whole Metrics); it publishes on addMetric.
  const exchangeMetrics = metrics.singleMetric();
  return {
    /**
     * Publishes one `AffixRequests` per exchange at once (its own dimensions), and stores
     * `ClientCacheHit` and `RateLimitBackoff` on `metrics` (default dimensions only), for the request's
     * one blob of such metrics that `requestTelemetry` publishes.
     */
    record(state: { exchanges: readonly UpstreamExchange[]; budget: BudgetNotes }): void {
      for (const exchange of state.exchanges) {
        // A status or a failure kind: a small, fixed set of values.
        exchangeMetrics.addDimensions({ method: exchange.method, outcome: String(exchange.status) });
        exchangeMetrics.addMetric(METRIC.affixRequests, MetricUnit.Count, 1);
      }
      if (state.budget.cacheHit !== undefined) {
        metrics.addMetric(METRIC.clientCacheHit, MetricUnit.Count, state.budget.cacheHit ? 1 : 0);
      }
      if (state.budget.answeredFrom === 'backoff') {
        metrics.addMetric(METRIC.rateLimitBackoff, MetricUnit.Count, 1);
      }
    },
  };
}

// Destination changes.

export interface DestinationTelemetry {
  /** Counts each destination field among `changed` (field names only; other names are ignored). */
  record(changed: readonly string[]): void;
}

export function createDestinationTelemetry(metrics: Metrics): DestinationTelemetry {
  // Built once per container (singleMetric() builds a whole Metrics); it publishes on addMetric and
  // then drops the dimension added for that metric, keeping only the defaults (service, stage).
  const single = metrics.singleMetric();
  return {
    record(changed) {
      for (const field of DESTINATION_FIELDS) {
        if (!changed.includes(field)) continue;
        single.addDimension(DESTINATION_FIELD_DIMENSION, field);
        single.addMetric(METRIC.destinationChange, MetricUnit.Count, 1);
      }
    },
  };
}

// Server errors by version: a 503 or 502 problem document is no Lambda error, so Lambda's own
// per-version metrics miss it; this is what a deploy's `release-5xx-answers` alarm watches.

/** What Lambda reports for an unpublished function, and what code run outside Lambda reports too. */
export const UNPUBLISHED_VERSION = '$LATEST';

/** The statuses that count as the version's own server errors. */
export const isServerError = (status: number | undefined): boolean => status !== undefined && status >= 500;

export function createVersionTelemetry(metrics: Metrics, functionVersion: string | undefined) {
  const version =
    functionVersion === undefined || functionVersion === '' ? UNPUBLISHED_VERSION : functionVersion;
  // Built once per container (singleMetric() builds a whole Metrics); it publishes on addMetric and
  // then drops the dimension added for that metric, keeping only the defaults (service, stage).
  const single = metrics.singleMetric();
  return {
    record(status: number | undefined): void {
      if (!isServerError(status)) return;
      single.addDimension(EXECUTED_VERSION_DIMENSION, version);
      single.addMetric(METRIC.serverErrorAnswers, MetricUnit.Count, 1);
    },
  };
}

// Per request: the middleware.

const AUDITED_ROUTES: ReadonlySet<RouteKey> = new Set(ROUTES.filter((route) => route.writes).map(routeKeyOf));
/** Methods that change nothing: refusing one of them is no refused write. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether this request was, or tried to be, a write: audited whatever its outcome. */
function isWriteAttempt(state: RequestState): boolean {
  if (state.route !== undefined) return AUDITED_ROUTES.has(state.route);
  return state.method !== undefined && !SAFE_METHODS.has(state.method);
}

/** Where Powertools writes (its Console is built over `process.stdout`); a test passes its own. */
type TelemetryOutput = Pick<Writable, 'cork' | 'uncork'>;

/**
 * After every request: the outcome metric, the 5xx answer by version, upstream latency, and (for
 * writes) one audit line. `functionVersion` is `AWS_LAMBDA_FUNCTION_VERSION` (`$LATEST` when unset).
 *
 * `metrics` holds only the metrics of the default dimensions (service, stage): the latencies and the
 * budget's counts, published here in one blob per request (so no `logMetrics` is needed, and a request
 * that stored none prints nothing). A request's lines are written corked: one system call for all
 * of them instead of one per line (each stays a line of its own). Uncorked before this returns, so
 * nothing waits for a later invocation (Lambda may freeze the environment after the answer).
 */
export function requestTelemetry(options: {
  logger: Logger;
  metrics: Metrics;
  functionVersion?: string | undefined;
  /** The stream Powertools writes to (default `process.stdout`), corked while a request's lines are written. */
  output?: TelemetryOutput;
}): ProxyMiddleware {
  const { logger, metrics } = options;
  const output = options.output ?? process.stdout;
  // Built once per container: singleMetric() constructs a whole Metrics (Console, env parsing) per call.
  // A single-metric instance publishes on every addMetric and keeps only its default dimensions.
  const outcomeMetrics = metrics.singleMetric();
  const budgetTelemetry = createBudgetTelemetry(metrics);
  const versionTelemetry = createVersionTelemetry(metrics, options.functionVersion);
  const recordState = (request: ProxyRequest, state: RequestState, outcome: string) => {
    const upstreamLatencyMs = state.exchanges.reduce((sum, exchange) => sum + exchange.latencyMs, 0);
    if (state.exchanges.length > 0) {
      metrics.addMetric(METRIC.upstreamLatency, MetricUnit.Milliseconds, upstreamLatencyMs);
    }
    if (state.lockWaitMs !== undefined) {
      metrics.addMetric(METRIC.writeLockWait, MetricUnit.Milliseconds, state.lockWaitMs);
    }
    budgetTelemetry.record(state);
    const from = answeredFrom(state.budget, state.exchanges);
    // Every write attempt, and every request the shared back-off answered (no Affix call made).
    if (isWriteAttempt(state) || from === 'backoff') {
      const last = state.exchanges.at(-1);
      // Names and statuses only, never values: a refused write (403, 404, 405 included) is audited too.
      logger.info('audit', {
        audit: {
          caller: state.caller ?? null,
          route: state.route ?? null,
          method: state.method,
          resource: state.resource ?? null,
          outcome,
          status: request.response?.statusCode,
          requestedFields: state.requestedFields,
          changedFields: state.changedFields,
          upstreamStatus: last?.status ?? null,
          upstreamCalls: state.exchanges,
          upstreamLatencyMs: Math.round(upstreamLatencyMs * 10) / 10,
          lockWaitMs: state.lockWaitMs ?? null,
          answeredFrom: from,
        },
      });
    }
  };
  const record = (request: ProxyRequest) => {
    const { state } = request.context;
    const outcome = state?.outcome ?? (request.response?.statusCode === 200 ? 'success' : 'internal');
    output.cork();
    try {
      outcomeMetrics.addDimension('outcome', outcome);
      outcomeMetrics.addMetric(METRIC.requestOutcome, MetricUnit.Count, 1);
      versionTelemetry.record(request.response?.statusCode);
      if (state !== undefined) recordState(request, state, outcome);
    } finally {
      // Also after a failure above: nothing of this request is left stored for the next one.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      output.uncork();
    }
  };
  return {
    before: (request) => {
      // API Gateway's request id: the `instance` of our problems, so logs and answers line up.
      const requestId = request.event.requestContext?.requestId;
      if (requestId) logger.setCorrelationId(requestId);
    },
    after: (request) => {
      const { state } = request.context;
      if (state !== undefined) state.outcome = 'success';
      record(request);
    },
    onError: (request) => record(request),
  };
}
