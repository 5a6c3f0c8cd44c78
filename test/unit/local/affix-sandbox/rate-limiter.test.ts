/**
 * The sandbox's sliding-window rate limiter alone, on an injected clock: per-IP and per-`client_id`
 * budgets per endpoint, refusals that spend nothing, and `Retry-After` from the oldest admitted request.
 */
import { describe, expect, it } from 'vitest';
import {
  AFFIX_RATE_LIMITS,
  createRateLimiter,
  type RateLimitedRequest,
} from '../../../../local/affix-sandbox/rate-limiter.ts';

const PATH = '/2023-03-01/management/client';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let at = start;
  return { now: () => at, advance: (ms: number) => (at += ms) };
}

const request = (overrides: Partial<RateLimitedRequest> = {}): RateLimitedRequest => ({
  method: 'GET',
  path: PATH,
  ip: '127.0.0.1',
  clientId: undefined,
  ...overrides,
});

const small = { perIp: { limit: 3, windowMs: 10_000 }, perClientId: { limit: 5, windowMs: 60_000 } };

describe('createRateLimiter', () => {
  it('has Affix documented numbers by default: 40 a minute per IP, 40 every 5 minutes per client_id', () => {
    expect(AFFIX_RATE_LIMITS).toEqual({
      perIp: { limit: 40, windowMs: 60_000 },
      perClientId: { limit: 40, windowMs: 300_000 },
      perMethod: false,
    });
    const clock = manualClock();
    const limiter = createRateLimiter({}, clock.now);
    for (let i = 0; i < 40; i += 1) expect(limiter.check(request()).admitted).toBe(true);
    expect(limiter.check(request())).toEqual({ admitted: false, retryAfterSeconds: 60, limit: 'ip' });
  });

  it('admits `limit` requests per window, then refuses with the seconds until the oldest leaves', () => {
    const clock = manualClock();
    const limiter = createRateLimiter(small, clock.now);
    expect(limiter.check(request()).admitted).toBe(true);
    clock.advance(2_500);
    expect(limiter.check(request()).admitted).toBe(true);
    expect(limiter.check(request()).admitted).toBe(true);
    // The oldest was admitted 2.5 s ago: it leaves the 10 s window in 7.5 s, rounded up.
    expect(limiter.check(request())).toEqual({ admitted: false, retryAfterSeconds: 8, limit: 'ip' });
    clock.advance(7_499);
    expect(limiter.check(request())).toEqual({ admitted: false, retryAfterSeconds: 1, limit: 'ip' });
    clock.advance(1);
    // Exactly one window after the first: it has left, one place is free again.
    expect(limiter.check(request()).admitted).toBe(true);
    expect(limiter.check(request()).admitted).toBe(false);
  });

  it('does not spend budget on a refused request', () => {
    const clock = manualClock();
    const limiter = createRateLimiter(small, clock.now);
    for (let i = 0; i < 3; i += 1) limiter.check(request());
    clock.advance(1_000);
    for (let i = 0; i < 20; i += 1) expect(limiter.check(request()).admitted).toBe(false);
    // Had the refusals been logged, the window would still be full after the first three left.
    clock.advance(9_000);
    for (let i = 0; i < 3; i += 1) expect(limiter.check(request()).admitted).toBe(true);
  });

  it('keeps budgets apart per IP address and per path', () => {
    const limiter = createRateLimiter(small, manualClock().now);
    for (let i = 0; i < 3; i += 1) limiter.check(request());
    expect(limiter.check(request()).admitted).toBe(false);
    expect(limiter.check(request({ ip: '127.0.0.2' })).admitted).toBe(true);
    expect(limiter.check(request({ path: '/other' })).admitted).toBe(true);
  });

  it('shares one budget between GET and POST of a path unless perMethod', () => {
    const shared = createRateLimiter(small, manualClock().now);
    for (let i = 0; i < 3; i += 1) shared.check(request({ method: 'GET' }));
    expect(shared.check(request({ method: 'POST' })).admitted).toBe(false);

    const perMethod = createRateLimiter({ ...small, perMethod: true }, manualClock().now);
    for (let i = 0; i < 3; i += 1) perMethod.check(request({ method: 'GET' }));
    expect(perMethod.check(request({ method: 'GET' })).admitted).toBe(false);
    expect(perMethod.check(request({ method: 'POST' })).admitted).toBe(true);
  });

  it('counts a client_id across IP addresses, and a request naming none against its IP only', () => {
    const clock = manualClock();
    const limiter = createRateLimiter(
      { perIp: { limit: 100, windowMs: 10_000 }, perClientId: { limit: 2, windowMs: 60_000 } },
      clock.now,
    );
    expect(limiter.check(request({ ip: '10.0.0.1', clientId: 'c' })).admitted).toBe(true);
    expect(limiter.check(request({ ip: '10.0.0.2', clientId: 'c' })).admitted).toBe(true);
    expect(limiter.check(request({ ip: '10.0.0.3', clientId: 'c' }))).toEqual({
      admitted: false,
      retryAfterSeconds: 60,
      limit: 'client_id',
    });
    expect(limiter.check(request({ ip: '10.0.0.3', clientId: 'other' })).admitted).toBe(true);
    expect(limiter.check(request({ ip: '10.0.0.3', clientId: undefined })).admitted).toBe(true);
  });

  it('names the budget that frees last when both are spent, and spends neither', () => {
    const clock = manualClock();
    const limiter = createRateLimiter(
      { perIp: { limit: 1, windowMs: 10_000 }, perClientId: { limit: 1, windowMs: 60_000 } },
      clock.now,
    );
    expect(limiter.check(request({ clientId: 'c' })).admitted).toBe(true);
    expect(limiter.check(request({ clientId: 'c' }))).toEqual({
      admitted: false,
      retryAfterSeconds: 60,
      limit: 'client_id',
    });
    // The IP refusal alone: the per-client_id budget of another client is untouched by the refusal.
    expect(limiter.check(request({ clientId: 'd' }))).toEqual({
      admitted: false,
      retryAfterSeconds: 10,
      limit: 'ip',
    });
    clock.advance(10_000);
    expect(limiter.check(request({ clientId: 'd' })).admitted).toBe(true);
  });

  it('forgets every admitted request on reset', () => {
    const limiter = createRateLimiter(small, manualClock().now);
    for (let i = 0; i < 3; i += 1) limiter.check(request());
    expect(limiter.check(request()).admitted).toBe(false);
    limiter.reset();
    expect(limiter.check(request()).admitted).toBe(true);
  });

  it('refuses a limit that is not a positive integer or a window that is not positive', () => {
    expect(() => createRateLimiter({ perIp: { limit: 0, windowMs: 1_000 } })).toThrow(RangeError);
    expect(() => createRateLimiter({ perIp: { limit: 1.5, windowMs: 1_000 } })).toThrow(/perIp/);
    expect(() => createRateLimiter({ perClientId: { limit: 1, windowMs: 0 } })).toThrow(/perClientId/);
    expect(() => createRateLimiter({ perClientId: { limit: 1, windowMs: Number.NaN } })).toThrow(RangeError);
  });
});
