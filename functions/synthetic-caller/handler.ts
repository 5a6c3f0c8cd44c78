/**
 * The synthetic caller: run by EventBridge Scheduler (every 5 minutes by default), it signs
 * `GET /client` through API Gateway with its own role (a member of `readers`) and publishes
 * `SyntheticCheckSuccess` (1 or 0) as an EMF metric. It is the first alarm when the credentials,
 * the policy or Affix break, before a real caller notices.
 *
 * Environment: `CLIENT_CONFIG_URL` (the stage URL), `CLIENT_CONFIG_REGION` (default `AWS_REGION`),
 * `SYNTHETIC_TIMEOUT_MS` (default 10000), and the Powertools variables. Credentials: the function's
 * role, through the default AWS chain.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import * as v from 'valibot';
import { type ClientConfigClient, createClientConfigClient } from '../../clients/index.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../contract/telemetry.ts';
import { ConfigError, integerFromEnv } from '../core/adapters/config.ts';
import { runSyntheticCheck, type SyntheticResult } from './check.ts';

/** Its own timeout's bounds: above 0 (the client refuses 0), below its Lambda timeout (15 s). */
const MAX_SYNTHETIC_TIMEOUT_MS = 14_000;

const EnvEntries = {
  CLIENT_CONFIG_URL: v.pipe(
    v.string('CLIENT_CONFIG_URL is required'),
    v.nonEmpty('CLIENT_CONFIG_URL is required'),
  ),
  CLIENT_CONFIG_REGION: v.optional(v.string()),
  AWS_REGION: v.optional(v.string()),
  // The function's one integer-from-env rule (wording and bounds as every other variable's).
  SYNTHETIC_TIMEOUT_MS: integerFromEnv('SYNTHETIC_TIMEOUT_MS', 10_000, 1, MAX_SYNTHETIC_TIMEOUT_MS),
  STAGE: v.optional(v.string()),
};
const EnvSchema = v.object(EnvEntries);

/**
 * Every known name present, unset ones as undefined (as `loadConfig` does): a truly unset variable
 * then gets its own message ("CLIENT_CONFIG_URL is required"), not valibot's "Invalid key: ...".
 */
export function parseSyntheticEnv(env: Record<string, string | undefined>): v.InferOutput<typeof EnvSchema> {
  const known = Object.fromEntries(Object.keys(EnvEntries).map((name) => [name, env[name]]));
  const result = v.safeParse(EnvSchema, known, { abortPipeEarly: true });
  if (result.success) return result.output;
  throw new ConfigError(`Invalid configuration: ${result.issues.map((issue) => issue.message).join('; ')}`);
}

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;
const logger = new Logger({ serviceName });
const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
});

let client: ClientConfigClient | undefined;

/** Built on the first run, from the environment of that moment (a test sets it first). */
function clientFromEnv(): ClientConfigClient {
  if (client !== undefined) return client;
  const env = parseSyntheticEnv(process.env);
  const region = env.CLIENT_CONFIG_REGION ?? env.AWS_REGION;
  if (region === undefined) throw new Error('CLIENT_CONFIG_REGION or AWS_REGION is required');
  if (env.STAGE !== undefined) metrics.setDefaultDimensions({ stage: env.STAGE });
  client = createClientConfigClient({
    baseUrl: env.CLIENT_CONFIG_URL,
    region,
    timeoutMs: env.SYNTHETIC_TIMEOUT_MS,
  });
  return client;
}

export async function handler(): Promise<SyntheticResult> {
  try {
    return await runSyntheticCheck({ client: clientFromEnv(), metrics, logger });
  } finally {
    metrics.publishStoredMetrics();
  }
}
