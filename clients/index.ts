/**
 * The typed client of the affix-webhook-config API: see clients/README.md.
 *
 * @example
 * import { createClientConfigClient } from '@affix-webhook-config/client';
 * const api = createClientConfigClient({ baseUrl: process.env.CLIENT_CONFIG_URL, region: 'eu-west-1' });
 * const { client, etag } = await api.getClient();
 */
// The problem slugs, statuses and when texts: the catalogues in `functions/contract/problems.ts` (the
// function's) and `functions/contract/gateway-responses.ts` (API Gateway's), shipped in this package.
export { GATEWAY_PROBLEMS } from '../functions/contract/gateway-responses.ts';
export type { FieldError, ProblemSlug } from '../functions/contract/problems.ts';
export { PROBLEM_TYPE_PREFIX, PROBLEMS } from '../functions/contract/problems.ts';
export {
  type AwsCredentials,
  type AwsCredentialsProvider,
  type CallOptions,
  type ChangesQuery,
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
export type {
  ChangeEntry,
  ChangePage,
  PatchClientRequest,
  PublicClient,
  ReplaceSecretsRequest,
} from './schemas.ts';
