/**
 * The proxy's secrets from SSM (the Affix credentials and the ETag key) and their per-container cache.
 *
 * Fetched on first use, kept for `maxAgeMs`, concurrent fetches share one request, a failed fetch is
 * never cached (the next call tries again), and `refresh()` forces a new fetch (after an Affix 401,
 * so a rotated secret is picked up without a redeploy; and by the lock-out guard). A refresh replaces
 * the cached value only when it succeeds: a failed one (an SSM outage) leaves the last good value in
 * place for later `get()`s, while the caller of `refresh()` still gets the failure, so nothing that
 * needs a fresh read proceeds without one. The loader is a port: SSM in production, anything in tests.
 *
 * @example
 * const credentials = createCredentialsCache({ load: loadFromSsm, maxAgeMs: 300_000 });
 * const { clientId, clientSecret, etagKey } = await credentials.get();
 */
import type { AffixCredentials, CredentialsProvider, ProxyCredentials } from '../ports.ts';
import { singleFlight } from './single-flight.ts';

export interface CredentialsCacheOptions {
  load: () => Promise<ProxyCredentials>;
  maxAgeMs: number;
  now?: () => number;
}

export function createCredentialsCache(options: CredentialsCacheOptions): CredentialsProvider {
  const now = options.now ?? Date.now;
  let cached: { value: ProxyCredentials; expiresAt: number } | undefined;
  const flight = singleFlight<ProxyCredentials>();

  const fetchShared = (): Promise<ProxyCredentials> =>
    flight.run(() =>
      options.load().then((value) => {
        // Counted from when the value arrived: a slow load (SDK retries) must not leave a value that is
        // already expired for the rest of the request that waited for it.
        cached = { value, expiresAt: now() + options.maxAgeMs };
        return value;
      }),
    );

  return {
    get() {
      if (cached !== undefined && now() < cached.expiresAt) return Promise.resolve(cached.value);
      return fetchShared();
    },
    refresh() {
      // The cached value stays until the new one has arrived: a failed read must not evict it.
      return fetchShared();
    },
  };
}

/** The `Authorization` value Affix's `basic` scheme expects. */
export function basicAuthorization(credentials: AffixCredentials): string {
  return `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`;
}
