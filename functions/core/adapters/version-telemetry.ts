/**
 * `ServerErrorAnswers` per answer with a status of 500 or above, by the Lambda version that gave it
 * (`ExecutedVersion`). A 503 or 502 problem document is no Lambda error, so Lambda's own per-version
 * metrics miss it; this is what a deploy's `release-5xx-answers` alarm watches. Its own single-metric
 * instance: the version dimension multiplies no other metric's series.
 *
 * @example
 * const versionTelemetry = createVersionTelemetry(metrics, process.env.AWS_LAMBDA_FUNCTION_VERSION);
 * versionTelemetry.record(response.statusCode); // once per answer
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EXECUTED_VERSION_DIMENSION, METRIC } from '../../contract/telemetry.ts';

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
