/**
 * The real middy chain over the real Affix HTTP client, with the `fetch` and credentials a test
 * gives it (one attempt, a 1 s attempt timeout, a 3 s deadline) and an in-memory write lock unless
 * one is given. Logger and Metrics are built at each call, so a test that sets Powertools variables
 * first sees them applied.
 *
 * The `fetch` is normally the in-process Affix sandbox's (`createAffixSandbox().fetch`, the one fake).
 *
 * @example
 * const affix = createAffixSandbox({ client: initialClient() });
 * const handler = chainOverFetch({ credentials, fetch: affix.fetch });
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createAffixHttpClient } from '../../functions/core/adapters/affix-http.ts';
import { createHandler, type HandlerDependencies } from '../../functions/core/adapters/app.ts';
import type { CredentialsProvider, WriteLock } from '../../functions/core/ports.ts';
import { createInMemoryWriteLock } from './in-memory-write-lock.ts';

export interface ChainOverFetchOptions {
  credentials: CredentialsProvider;
  fetch: typeof fetch;
  writeLock?: WriteLock;
  webhookSecrets?: HandlerDependencies['webhookSecrets'];
}

export function chainOverFetch(options: ChainOverFetchOptions) {
  const { credentials } = options;
  return createHandler({
    config: { upstreamDeadlineMs: 3_000, deadlineSafetyMarginMs: 100 },
    ports: {
      credentials,
      writeLock: options.writeLock ?? createInMemoryWriteLock(),
      affix: createAffixHttpClient({
        baseUrl: 'https://affix.test',
        credentials,
        attemptTimeoutMs: 1_000,
        maxAttempts: 1,
        fetch: options.fetch,
      }),
    },
    logger: new Logger({ serviceName: 'affix-webhook-config' }),
    metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
    ...(options.webhookSecrets === undefined ? {} : { webhookSecrets: options.webhookSecrets }),
  });
}
