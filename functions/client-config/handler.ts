/**
 * Lambda entry point. Configuration (the destination policy included) is validated here, at cold
 * start; the ports (SSM, DynamoDB, Affix) come from `wiring.ts`, built once per container, never per
 * request.
 */
import { createHandler } from '../core/adapters/app.ts';
import { loadConfig } from '../core/adapters/config.ts';
import { logger, metrics } from '../core/adapters/telemetry.ts';
import { loadDestinationPolicy } from '../core/domain/client-state.ts';
import { createProductionPorts } from './wiring.ts';

const config = loadConfig(process.env);
const destinations = loadDestinationPolicy(process.env);
// Stages sharing an account keep their metrics (and the alarms on them) apart.
if (config.stage !== undefined) metrics.setDefaultDimensions({ stage: config.stage });

const { ports, reads, journal } = createProductionPorts(config);

// Lambda sets the version that runs this container: `$LATEST` or the published number.
const functionVersion = process.env.AWS_LAMBDA_FUNCTION_VERSION;

export const handler = createHandler({
  config,
  ports,
  reads,
  journal,
  logger,
  metrics,
  destinations,
  functionVersion,
});
