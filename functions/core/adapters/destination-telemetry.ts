/**
 * `DestinationChange` per changed destination field (`webhook_uri`, `redirect_uris`), by `field`:
 * once per write through the proxy that changed it and once per outside change that did. Its own
 * single-metric instance, so the `field` dimension multiplies no other metric's series.
 *
 * @example
 * const destinations = createDestinationTelemetry(metrics);
 * destinations.record(['name', 'webhook_uri']); // one DestinationChange, field=webhook_uri
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DESTINATION_FIELD_DIMENSION, DESTINATION_FIELDS, METRIC } from '../../contract/telemetry.ts';

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
