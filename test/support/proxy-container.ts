/**
 * One Lambda container of the proxy, built like `handler.ts` builds it: its own SSM client (the real
 * SDK, against the local SSM endpoint on 127.0.0.1), its own credentials cache, the real Affix HTTP
 * client over the given `fetch`, and the real middy chain. Two calls give two containers that share
 * nothing but SSM and Affix.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createAffixHttpClient } from '../../functions/core/adapters/affix-http.ts';
import { createHandler } from '../../functions/core/adapters/app.ts';
import { createSsmCredentialsLoader } from '../../functions/core/adapters/ssm-credentials.ts';
import { createCredentialsCache } from '../../functions/core/app/credentials.ts';
import type { WriteLock } from '../../functions/core/ports.ts';
import {
  DEFAULT_CLIENT_ID_PARAMETER,
  DEFAULT_CLIENT_SECRET_PARAMETER,
  DEFAULT_ETAG_KEY_PARAMETER,
} from '../../local/handler-env.ts';
import { type SsmEndpoint, startSsmEndpoint } from '../../local/ssm-endpoint.ts';
import { apiEvent, type EventOptions, lambdaContext } from './events.ts';
import { createInMemoryWriteLock } from './in-memory-write-lock.ts';

export type Invoke = (options: EventOptions) => Promise<APIGatewayProxyResult>;

/** A local SSM endpoint holding the client id, the client secret and an ETag key (Base64). */
export function startProxySsm(values: { clientId: string; clientSecret: string; etagKey: string }) {
  return startSsmEndpoint({
    port: 0,
    parameters: {
      [DEFAULT_CLIENT_ID_PARAMETER]: { value: values.clientId, type: 'String' },
      [DEFAULT_CLIENT_SECRET_PARAMETER]: { value: values.clientSecret, type: 'SecureString' },
      [DEFAULT_ETAG_KEY_PARAMETER]: { value: values.etagKey, type: 'SecureString' },
    },
  });
}

export interface ProxyContainer {
  invoke: Invoke;
  close(): void;
}

/**
 * `writeLock` stands for the lock store the containers share (DynamoDB in production): pass the same
 * one to containers that must exclude each other; by default each gets its own.
 */
export function proxyContainer(
  ssm: SsmEndpoint,
  affixFetch: typeof fetch,
  writeLock: WriteLock = createInMemoryWriteLock(),
): ProxyContainer {
  const client = new SSMClient({
    region: 'us-east-1',
    endpoint: ssm.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const credentials = createCredentialsCache({
    load: createSsmCredentialsLoader({
      client,
      clientIdParameter: DEFAULT_CLIENT_ID_PARAMETER,
      clientSecretParameter: DEFAULT_CLIENT_SECRET_PARAMETER,
      etagKeyParameter: DEFAULT_ETAG_KEY_PARAMETER,
    }),
    maxAgeMs: 300_000,
  });
  const affix = createAffixHttpClient({
    baseUrl: 'https://affix.test',
    credentials,
    attemptTimeoutMs: 2_000,
    maxAttempts: 1,
    fetch: affixFetch,
  });
  const handler = createHandler({
    config: { upstreamDeadlineMs: 5_000, deadlineSafetyMarginMs: 100 },
    ports: { affix, credentials, writeLock },
    logger: new Logger({ serviceName: 'affix-webhook-config' }),
    metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
  });
  return {
    invoke: (options) => handler(apiEvent(options), lambdaContext()),
    close: () => client.destroy(),
  };
}
