/** The pure rules of the write lease: its duration, the backoff, the reserve, Retry-After. */
import { describe, expect, it } from 'vitest';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import {
  contentionRetryAfterSeconds,
  LEASE_MARGIN_MS,
  leaseBackoffMs,
  leaseDurationMs,
  workReserveMs,
} from '../../../../../functions/core/domain/state-item.ts';

describe('leaseDurationMs', () => {
  it('is the configured lease when the invocation ends sooner', () => {
    expect(leaseDurationMs(30_000, 10_000)).toBe(30_000);
    expect(leaseDurationMs(30_000, undefined)).toBe(30_000);
  });
  it('outlives the invocation by the margin when the invocation may run longer than the lease', () => {
    expect(leaseDurationMs(1_000, 60_000)).toBe(60_000 + LEASE_MARGIN_MS);
    expect(leaseDurationMs(30_000, 29_999.2)).toBe(30_000 + LEASE_MARGIN_MS);
  });
});

describe('leaseBackoffMs', () => {
  it('grows exponentially to 200 ms, jittered over the upper half', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((attempt) => leaseBackoffMs(attempt, undefined, () => 0))).toEqual([
      5, 10, 20, 40, 80, 100, 100,
    ]);
    expect([0, 1, 2, 3, 4, 5, 9].map((attempt) => leaseBackoffMs(attempt, undefined, () => 1))).toEqual([
      10, 20, 40, 80, 160, 200, 200,
    ]);
  });
  it('does not sleep much past the holder’s expiry', () => {
    expect(leaseBackoffMs(9, 3, () => 1)).toBe(4);
    expect(leaseBackoffMs(9, 0, () => 1)).toBe(1);
  });
});

describe('workReserveMs and contentionRetryAfterSeconds', () => {
  it('keeps half the request budget for the GET and POST', () => {
    expect(workReserveMs(createDeadline(10_000))).toBe(5_000);
  });
  it('answers the holder’s remaining lease in whole seconds, at least 1', () => {
    expect(contentionRetryAfterSeconds(19_001, 30_000)).toBe(20);
    expect(contentionRetryAfterSeconds(0, 30_000)).toBe(1);
    expect(contentionRetryAfterSeconds(undefined, 30_000)).toBe(30);
  });
});
