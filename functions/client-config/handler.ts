/**
 * Lambda entry point: production wiring. Configuration is validated here, at cold start, and clients
 * are built once per container, never per request.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { createAffixHttpClient } from './affix-client.ts';
import { createHandler } from './app.ts';
import { loadConfig } from './config.ts';
import { createCredentialsCache } from './credentials.ts';
import { logger, metrics } from './observability.ts';
import { createSsmCredentialsLoader } from './ssm-credentials.ts';

const config = loadConfig(process.env);
// Stages sharing an account keep their metrics (and the alarms on them) apart.
if (config.stage !== undefined) metrics.setDefaultDimensions({ stage: config.stage });

// Default endpoint resolution, so AWS_ENDPOINT_URL_SSM can point it at a local endpoint.
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

const affix = createAffixHttpClient({
  baseUrl: config.affixBaseUrl,
  credentials,
  attemptTimeoutMs: config.upstreamAttemptTimeoutMs,
  maxAttempts: config.upstreamMaxAttempts,
});

export const handler = createHandler({ config, ports: { affix, credentials }, logger, metrics });
