/**
 * The one Logger and the one Metrics instance of the function (Powertools for AWS Lambda).
 *
 * The event is never logged (it may hold secrets); log lines carry only what we put in them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../contract/telemetry.ts';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;

export const logger = new Logger({ serviceName });

export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
});

export { MetricUnit };
