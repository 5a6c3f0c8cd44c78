/**
 * Affix's documented limits for key-gated endpoints (spec, "Rate limits"): 40 requests every minute
 * by IP address and 40 requests every 5 minutes by `client_id`, "applied at endpoint level".
 *
 * How we read "endpoint": the spec's example counts per path (`/orders`, `/items`, `/identity` each
 * get their own budget), so an endpoint is a path, and GET and POST of the management client path
 * share one budget (`perMethod: false`, the default and the stricter reading; a PATCH through the
 * proxy costs two requests of it). `perMethod: true` gives each method its own budget.
 *
 * Sliding windows (a log of admitted requests' times per key): a request is admitted when fewer than
 * `limit` admitted requests of its key fall in the last `windowMs`. A refused request does not spend
 * budget. `Retry-After` is the whole seconds until the oldest request in the window leaves it (at
 * least 1). The per-`client_id` budget applies to whatever `client_id` the `Basic` header names, valid
 * secret or not; a request naming none spends only the per-IP budget. The clock is injectable.
 */

export interface RateLimit {
  limit: number;
  windowMs: number;
}

export interface RateLimitsConfig {
  perIp: RateLimit;
  perClientId: RateLimit;
  /** Whether GET and POST of a path have their own budgets (default false: they share one). */
  perMethod: boolean;
}

/** The numbers Affix documents for key-gated endpoints. */
export const AFFIX_RATE_LIMITS: RateLimitsConfig = {
  perIp: { limit: 40, windowMs: 60_000 },
  perClientId: { limit: 40, windowMs: 300_000 },
  perMethod: false,
};

export interface RateLimitedRequest {
  method: string;
  path: string;
  ip: string;
  clientId: string | undefined;
}

export type RateDecision =
  | { admitted: true }
  | { admitted: false; retryAfterSeconds: number; limit: 'ip' | 'client_id' };

export interface RateLimiter {
  check(request: RateLimitedRequest): RateDecision;
  reset(): void;
}

export function createRateLimiter(
  config: Partial<RateLimitsConfig> = {},
  now: () => number = Date.now,
): RateLimiter {
  const limits: RateLimitsConfig = { ...AFFIX_RATE_LIMITS, ...config };
  for (const [name, limit] of [
    ['perIp', limits.perIp],
    ['perClientId', limits.perClientId],
  ] as const) {
    if (!Number.isInteger(limit.limit) || limit.limit < 1 || !(limit.windowMs > 0)) {
      throw new RangeError(`${name} needs a positive integer limit and a positive windowMs`);
    }
  }
  let logs = new Map<string, number[]>();

  /** The key's admitted times still in the window (pruned in place). */
  const inWindow = (key: string, windowMs: number, at: number): number[] => {
    const log = logs.get(key) ?? [];
    while (log.length > 0 && (log[0] ?? 0) <= at - windowMs) log.shift();
    logs.set(key, log);
    return log;
  };

  return {
    check(request) {
      const at = now();
      const endpoint = limits.perMethod ? `${request.method} ${request.path}` : request.path;
      const buckets: { key: string; rule: RateLimit; name: 'ip' | 'client_id' }[] = [
        { key: `ip|${endpoint}|${request.ip}`, rule: limits.perIp, name: 'ip' },
      ];
      if (request.clientId !== undefined) {
        buckets.push({
          key: `client|${endpoint}|${request.clientId}`,
          rule: limits.perClientId,
          name: 'client_id',
        });
      }
      let refusal: RateDecision | undefined;
      for (const bucket of buckets) {
        const log = inWindow(bucket.key, bucket.rule.windowMs, at);
        if (log.length < bucket.rule.limit) continue;
        const frees = (log[0] ?? at) + bucket.rule.windowMs;
        const retryAfterSeconds = Math.max(1, Math.ceil((frees - at) / 1000));
        if (refusal === undefined || (!refusal.admitted && retryAfterSeconds > refusal.retryAfterSeconds)) {
          refusal = { admitted: false, retryAfterSeconds, limit: bucket.name };
        }
      }
      if (refusal !== undefined) return refusal;
      for (const bucket of buckets) logs.get(bucket.key)?.push(at);
      return { admitted: true };
    },
    reset() {
      logs = new Map();
    },
  };
}
