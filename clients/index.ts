/**
 * The typed client of the affix-webhook-config API: see clients/README.md.
 *
 * @example
 * import { createClientConfigClient } from '../clients/index.ts';
 * const api = createClientConfigClient({ baseUrl: process.env.CLIENT_CONFIG_URL, region: 'eu-west-1' });
 * const { client, etag } = await api.getClient();
 */
export type { FieldError, ProblemSlug } from '../functions/client-config/problems.ts';
export { PROBLEM_TYPE_PREFIX, PROBLEMS } from '../functions/client-config/problems.ts';
export type {
  PatchClientRequest,
  PublicClient,
  ReplaceSecretsRequest,
} from '../functions/client-config/schemas.ts';
export { GATEWAY_PROBLEMS } from '../functions/contract/gateway-responses.ts';
export {
  type AwsCredentials,
  type AwsCredentialsProvider,
  type CallOptions,
  type ClientConfigClient,
  type ClientConfigClientOptions,
  type ClientConfigResult,
  createClientConfigClient,
  DEFAULT_TIMEOUT_MS,
  GZIP_DELIVERIES_ABOVE_BYTES,
  type WebhookVerified,
  type WriteOptions,
} from './client-config-client.ts';
export {
  CLIENT_ERROR_TYPE_PREFIX,
  CLIENT_ERRORS,
  ClientConfigError,
  type ClientConfigErrorSlug,
  type ClientErrorSlug,
  type GatewayProblemSlug,
  RETRYABLE_SLUGS,
} from './errors.ts';
