/**
 * The throttle arithmetic of `infra/throttles.ts`: the numbers infra/README.md shows, the budget
 * holding for any valid stage, and the refusal of a budget that leaves no room for writes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AFFIX_BUDGET,
  bucketFor,
  deriveThrottles,
  ThrottleBudgetError,
  type ThrottleInputs,
  worstCaseAffixRequests,
  worstCaseRequests,
} from '../../infra/throttles.ts';

const DEFAULTS: ThrottleInputs = {
  budget: AFFIX_BUDGET,
  clientCacheMaxAgeSeconds: 30,
  rotationEnabled: false,
  stageThrottle: { rateLimit: 5, burstLimit: 10 },
};

describe('deriveThrottles', () => {
  it('with the defaults (40 per 300 s, 30 s cache, no rotation): the split and throttles of infra/README.md', () => {
    const plan = deriveThrottles(DEFAULTS);
    expect(plan.split).toEqual({
      usable: 32,
      readRefills: 11,
      uncachedReads: 0,
      verifyRefills: 6,
      rotation: 0,
      writes: 15,
      putSecretsWrites: 2,
      patchWrites: 5,
    });
    expect(plan.stage).toEqual({ rateLimit: 5, burstLimit: 10 });
    expect(plan.methods).toEqual({
      getClient: { rateLimit: 5, burstLimit: 10 },
      updateClient: { rateLimit: 0.0133, burstLimit: 1 },
      replaceSecrets: { rateLimit: 0.0033, burstLimit: 1 },
      verifyWebhook: { rateLimit: 5, burstLimit: 10 },
      // No Affix request: the stage's throttle.
      listChanges: { rateLimit: 5, burstLimit: 10 },
    });
  });

  it('with rotation on (prod): 4 requests reserved for the job, 3 PATCHes left', () => {
    const plan = deriveThrottles({ ...DEFAULTS, rotationEnabled: true });
    expect(plan.split).toMatchObject({ rotation: 4, writes: 11, patchWrites: 3 });
    expect(plan.methods.updateClient).toEqual({ rateLimit: 0.0066, burstLimit: 1 });
    expect(plan.methods.replaceSecrets).toEqual({ rateLimit: 0.0033, burstLimit: 1 });
  });

  it('with the cache off: GET /client gets its own allowance, and PATCH keeps 5', () => {
    const plan = deriveThrottles({ ...DEFAULTS, clientCacheMaxAgeSeconds: 0 });
    expect(plan.split).toMatchObject({ readRefills: 0, uncachedReads: 10, writes: 16, patchWrites: 6 });
    expect(plan.methods.getClient).toEqual({ rateLimit: 0.0233, burstLimit: 3 });
  });

  it('a larger budget (Affix raised our limit) gives more writes', () => {
    const plan = deriveThrottles({ ...DEFAULTS, budget: { requests: 400, windowSeconds: 300 } });
    expect(plan.split.patchWrites).toBe(149);
    // The burst is capped by the stage's 10; the rate is (149 - 10) / 300.
    expect(plan.methods.updateClient).toEqual({ rateLimit: 0.4633, burstLimit: 10 });
  });

  it('never lets a method through faster than the stage throttle', () => {
    const plan = deriveThrottles({
      ...DEFAULTS,
      budget: { requests: 4000, windowSeconds: 300 },
      stageThrottle: { rateLimit: 2, burstLimit: 4 },
    });
    expect(plan.methods.updateClient).toEqual({ rateLimit: 2, burstLimit: 4 });
  });

  it('refuses a budget that leaves fewer than 2 secret changes and 3 PATCHes, in numbers', () => {
    expect(() =>
      deriveThrottles({ ...DEFAULTS, clientCacheMaxAgeSeconds: 5, rotationEnabled: true }),
    ).toThrow(
      new ThrottleBudgetError(
        "Affix's budget of 40 requests per 300 s leaves -39 for writes (32 usable - 61 reads - 6 verify - 4 rotation), fewer than 10: raise clientCacheMaxAgeSeconds or affixBudget.requests",
      ),
    );
    expect(() => deriveThrottles({ ...DEFAULTS, budget: { requests: 30, windowSeconds: 300 } })).toThrow(
      ThrottleBudgetError,
    );
  });

  it('for any budget and stage it accepts: the worst case stays within the usable share, PUT secrets lowest', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 60, max: 3_600 }),
        fc.integer({ min: 0, max: 3_600 }),
        fc.boolean(),
        fc.double({ min: 0.01, max: 10_000, noNaN: true }),
        fc.integer({ min: 1, max: 5_000 }),
        (requests, windowSeconds, age, rotationEnabled, rateLimit, burstLimit) => {
          const inputs: ThrottleInputs = {
            budget: { requests, windowSeconds },
            clientCacheMaxAgeSeconds: age,
            rotationEnabled,
            stageThrottle: { rateLimit, burstLimit },
          };
          let plan: ReturnType<typeof deriveThrottles>;
          try {
            plan = deriveThrottles(inputs);
          } catch (error) {
            expect(error).toBeInstanceOf(ThrottleBudgetError);
            return;
          }
          expect(worstCaseAffixRequests(plan, windowSeconds)).toBeLessThanOrEqual(plan.split.usable);
          const put = plan.methods.replaceSecrets;
          for (const [key, other] of Object.entries(plan.methods)) {
            if (key === 'replaceSecrets') continue;
            expect(put.rateLimit, key).toBeLessThanOrEqual(other.rateLimit);
            expect(put.burstLimit, key).toBeLessThanOrEqual(other.burstLimit);
          }
          for (const throttle of Object.values(plan.methods)) {
            expect(throttle.rateLimit).toBeGreaterThan(0);
            expect(Number.isInteger(throttle.burstLimit)).toBe(true);
            expect(throttle.burstLimit).toBeGreaterThanOrEqual(1);
          }
        },
      ),
    );
  });
});

describe('bucketFor', () => {
  it('lets at most the allowance through in a window: the burst, then the refill', () => {
    const ceiling = { rateLimit: 100, burstLimit: 100 };
    for (const requests of [2, 3, 5, 10, 141]) {
      const bucket = bucketFor(requests, 300, ceiling);
      expect(worstCaseRequests(bucket, 300), String(requests)).toBeLessThanOrEqual(requests);
      expect(bucket.rateLimit).toBeGreaterThan(0);
    }
  });

  it('refuses an allowance below 2: a bucket that never refills is a lock-down', () => {
    expect(() => bucketFor(1, 300, { rateLimit: 5, burstLimit: 10 })).toThrow(ThrottleBudgetError);
  });
});
