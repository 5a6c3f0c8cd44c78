/**
 * The proxy's handler over a given `fetch` and Affix base URL, with the real Affix HTTP client, the
 * credential cache and an in-memory write lock: what the upstream-leak suites (in-memory Affix and the
 * HTTP sandbox) drive, so both test one chain.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createAffixHttpClient } from '../../functions/core/adapters/affix-http.ts';
import { createHandler } from '../../functions/core/adapters/app.ts';
import { createCredentialsCache } from '../../functions/core/app/credentials.ts';
import type { AffixCredentials } from '../../functions/core/ports.ts';
import { ETAG_KEY } from './affix-fixtures.ts';
import { createInMemoryWriteLock } from './in-memory-write-lock.ts';

export function handlerOverFetch(fetchImpl: typeof fetch, baseUrl: string, credentials: AffixCredentials) {
  const cache = createCredentialsCache({
    maxAgeMs: 300_000,
    load: async () => ({ ...credentials, etagKey: ETAG_KEY }),
  });
  const affix = createAffixHttpClient({
    baseUrl,
    credentials: cache,
    attemptTimeoutMs: 2_000,
    maxAttempts: 1,
    fetch: fetchImpl,
  });
  return createHandler({
    config: { upstreamDeadlineMs: 3_000, deadlineSafetyMarginMs: 100 },
    ports: { affix, credentials: cache, writeLock: createInMemoryWriteLock() },
    logger: new Logger({ serviceName: 'affix-webhook-config' }),
    metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
  });
}
