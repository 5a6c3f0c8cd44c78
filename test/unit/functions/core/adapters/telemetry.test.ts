/**
 * The function's one Logger and one Metrics: their lines carry the contract's service name, and their
 * metrics land in the contract's namespace, which the alarms and dashboards read (unless the
 * environment names others, as a deployed stage may).
 */
import { describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../../../../functions/contract/telemetry.ts';
import { logger, MetricUnit, metrics } from '../../../../../functions/core/adapters/telemetry.ts';
import { captureOutput } from '../../../../support/capture.ts';

const output = captureOutput();
const service = process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE;

describe('the function’s Logger and Metrics', () => {
  it('logs JSON lines as the function’s service', () => {
    const from = output.lines.length;
    logger.info('telemetry probe', { probe: 1 });
    expect(output.json(from)).toMatchObject([{ message: 'telemetry probe', service, probe: 1 }]);
  });

  it('publishes EMF metrics in the function’s namespace, with the service as a dimension', () => {
    const from = output.lines.length;
    metrics.addMetric('ObservabilityProbe', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    const [blob] = output.json(from).filter((line) => line.ObservabilityProbe !== undefined) as {
      service?: string;
      _aws: { CloudWatchMetrics: { Namespace: string }[] };
    }[];
    expect(blob?._aws.CloudWatchMetrics[0]?.Namespace).toBe(namespace);
    expect(blob?.service).toBe(service);
  });
});
