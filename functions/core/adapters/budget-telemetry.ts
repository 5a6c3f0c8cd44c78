/**
 * The visible rate budget: per request, one `AffixRequests` count per Affix exchange (dimensions
 * `method` and `outcome`), `ClientCacheHit` (1/0) per `GET /client` while the cache is on, and
 * `RateLimitBackoff` when the shared back-off answered. Single-metric instances: each metric is
 * published with only its own dimensions, so no dimension multiplies another metric's series.
 *
 * @example
 * const budget = createBudgetTelemetry(metrics);
 * budget.record(state); // in the telemetry middleware, after every request
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC } from '../../contract/telemetry.ts';
import type { AnsweredFrom, BudgetNotes } from '../domain/budget-notes.ts';
import type { UpstreamExchange } from '../ports.ts';

/** Where the answer came from; `null` when nothing was asked of Affix, the cache or the back-off. */
export function answeredFrom(
  budget: BudgetNotes,
  exchanges: readonly UpstreamExchange[],
): AnsweredFrom | null {
  if (budget.answeredFrom !== undefined) return budget.answeredFrom;
  return exchanges.length > 0 ? 'affix' : null;
}

export function createBudgetTelemetry(metrics: Metrics) {
  // Built once per container (singleMetric() builds a whole Metrics); each publishes on addMetric.
  const exchangeMetrics = metrics.singleMetric();
  const plainMetrics = metrics.singleMetric();
  return {
    record(state: { exchanges: readonly UpstreamExchange[]; budget: BudgetNotes }): void {
      for (const exchange of state.exchanges) {
        // A status or a failure kind: a small, fixed set of values.
        exchangeMetrics.addDimensions({ method: exchange.method, outcome: String(exchange.status) });
        exchangeMetrics.addMetric(METRIC.affixRequests, MetricUnit.Count, 1);
      }
      if (state.budget.cacheHit !== undefined) {
        plainMetrics.addMetric(METRIC.clientCacheHit, MetricUnit.Count, state.budget.cacheHit ? 1 : 0);
      }
      if (state.budget.answeredFrom === 'backoff') {
        plainMetrics.addMetric(METRIC.rateLimitBackoff, MetricUnit.Count, 1);
      }
    },
  };
}
