/**
 * The secrets each container keeps, and the caches that keep them: the proxy's own from SSM (the
 * Affix credentials and the ETag key), and the client's secret list as Affix lists it (for webhook
 * verification). Both load at most once at a time (single flight) and never keep a failed load.
 *
 * The credentials: fetched on first use, kept for `maxAgeMs`, and `refresh()` forces a new fetch
 * (after an Affix 401, so a rotated secret is picked up without a redeploy; and by the lock-out
 * guard). A refresh replaces the cached value only when it succeeds: a failed one (an SSM outage)
 * leaves the last good value in place for later `get()`s, while the caller of `refresh()` still gets
 * the failure, so nothing that needs a fresh read proceeds without one. The loader is a port: SSM in
 * production, anything in tests.
 *
 * @example
 * const credentials = createCredentialsCache({ load: loadFromSsm, maxAgeMs: 300_000 });
 * const { clientId, clientSecret, etagKey } = await credentials.get();
 * const secrets = createWebhookSecretsCache({ read: (call) => affix.getClient(call).then((c) => c.client_secret) });
 */
import { WEBHOOK_SECRETS_MAX_AGE_SECONDS } from '../../contract/limits.ts';
import type { AffixCredentials, CallContext, CredentialsProvider, ProxyCredentials } from '../ports.ts';

/**
 * One load at a time per container (middy's cache rule): a caller arriving while a load runs shares
 * its promise instead of starting another; once it settles, success or failure, the next caller
 * starts a fresh one (a failure is never kept).
 */
export interface SingleFlight<T> {
  /** The running load's promise, or `load()` started now. */
  run(load: () => Promise<T>): Promise<T>;
  /** The running load, if any. */
  readonly pending: Promise<T> | undefined;
}

export function singleFlight<T>(): SingleFlight<T> {
  let pending: Promise<T> | undefined;
  return {
    run(load) {
      if (pending !== undefined) return pending;
      const started = load().finally(() => {
        if (pending === started) pending = undefined;
      });
      pending = started;
      return started;
    },
    get pending() {
      return pending;
    },
  };
}

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

// ---------------------------------------------------------------------------------------------------
// The client's current secrets, as Affix lists them, cached briefly per container for webhook
// verification.
//
// A receiver may verify every delivery, and Affix allows 40 requests per 5 minutes per client: so the
// list is kept for `maxAgeMs` (default 60 s), concurrent reads share one request, a failed read is not
// cached, and `refreshAfterMismatch()` (a signature matched none of the cached secrets: maybe one was
// just added) reads again only if the cached list is older than `minRefreshIntervalMs`, so a flood of
// bad signatures cannot spend Affix's rate limit. Every client this container reads or writes anyway
// (`GET /client`, a write's answer) replaces the list (`prime`), so a secret added through this
// container verifies at once. Every `get` also asks `isCurrent` (the shared state's record of the
// list): a list changed by any container or function is read again at once, so a removed secret stops
// verifying with the next delivery everywhere.
// ---------------------------------------------------------------------------------------------------

export const DEFAULT_WEBHOOK_SECRETS_MAX_AGE_MS = WEBHOOK_SECRETS_MAX_AGE_SECONDS * 1000;
/**
 * At most one extra read per 15 s per container on mismatches: 20 per 5 minutes, half of Affix's
 * per-client limit, however many forged deliveries arrive.
 */
export const DEFAULT_WEBHOOK_SECRETS_MIN_REFRESH_MS = 15_000;

export interface SecretList {
  readonly secrets: readonly string[];
  /** When the list arrived (the cache's clock). */
  readonly readAt: number;
}

export interface WebhookSecretsCache {
  /** The cached list, read from Affix if absent or expired. */
  get(call: CallContext): Promise<SecretList>;
  /** A newer list after a mismatch, or undefined when the cached one is too young to read again. */
  refreshAfterMismatch(call: CallContext, seen: SecretList): Promise<SecretList | undefined>;
  /** A list just read from Affix for another reason: the freshest there is. */
  prime(secrets: readonly string[]): void;
}

export interface WebhookSecretsCacheOptions {
  read: (call: CallContext) => Promise<readonly string[]>;
  /**
   * Whether a cached list is still the current one (asked on every `get`); a list that is not is read
   * again at once, whatever its age. Absent: every young list is current.
   */
  isCurrent?: (list: SecretList, call: CallContext) => Promise<boolean>;
  maxAgeMs?: number;
  minRefreshIntervalMs?: number;
  now?: () => number;
}

export function createWebhookSecretsCache(options: WebhookSecretsCacheOptions): WebhookSecretsCache {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_WEBHOOK_SECRETS_MAX_AGE_MS;
  const minRefreshMs = options.minRefreshIntervalMs ?? DEFAULT_WEBHOOK_SECRETS_MIN_REFRESH_MS;
  let cached: SecretList | undefined;
  const flight = singleFlight<SecretList>();

  const readShared = (call: CallContext): Promise<SecretList> =>
    flight.run(() =>
      options.read(call).then((secrets) => {
        cached = { secrets: [...secrets], readAt: now() };
        return cached;
      }),
    );

  return {
    async get(call) {
      const young = cached;
      if (young !== undefined && now() - young.readAt < maxAgeMs) {
        if (options.isCurrent === undefined || (await options.isCurrent(young, call))) return young;
      }
      return readShared(call);
    },
    prime(secrets) {
      cached = { secrets: [...secrets], readAt: now() };
    },
    async refreshAfterMismatch(call, seen) {
      // Another request may have refreshed meanwhile: use its list without reading again.
      if (cached !== undefined && cached.readAt > seen.readAt) return cached;
      if (flight.pending !== undefined) return flight.pending;
      if (now() - seen.readAt < minRefreshMs) return undefined;
      return readShared(call);
    },
  };
}
