/** A request's time budget on an injected monotonic clock, and how the budget and the backstop are set. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backstopMs, createDeadline, requestBudgetMs } from '../../../../../functions/core/app/deadline.ts';

describe('createDeadline', () => {
  it('counts its budget down on the clock it is given, never below zero', () => {
    let now = 500;
    const deadline = createDeadline(1_000, () => now);
    expect(deadline.budgetMs).toBe(1_000);
    expect(deadline.remainingMs()).toBe(1_000);
    now = 1_250;
    expect(deadline.remainingMs()).toBe(250);
    now = 9_999;
    expect(deadline.remainingMs()).toBe(0);
    expect(deadline.budgetMs).toBe(1_000);
  });

  it('treats a negative budget as none at all', () => {
    const deadline = createDeadline(-5, () => 0);
    expect(deadline.budgetMs).toBe(0);
    expect(deadline.remainingMs()).toBe(0);
  });
});

describe('requestBudgetMs', () => {
  it('is the configured deadline while the Lambda has time to spare', () => {
    expect(requestBudgetMs(10_000, 60_000, 1_000)).toBe(10_000);
    expect(requestBudgetMs(10_000, undefined, 1_000)).toBe(10_000);
    expect(requestBudgetMs(10_000, Number.POSITIVE_INFINITY, 1_000)).toBe(10_000);
  });

  it('shrinks to the Lambda’s remaining time minus the safety margin, never below zero', () => {
    expect(requestBudgetMs(10_000, 4_000, 1_000)).toBe(3_000);
    expect(requestBudgetMs(10_000, 800, 1_000)).toBe(0);
  });
});

describe('backstopMs', () => {
  it('is half the safety margin, at least 1 ms', () => {
    expect(backstopMs(1_000)).toBe(500);
    expect(backstopMs(501)).toBe(250);
    expect(backstopMs(1)).toBe(1);
    expect(backstopMs(0)).toBe(1);
  });

  it('fires strictly after the request deadline: the backstop is closer to the Lambda timeout than the margin', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 60_000 }),
        fc.integer({ min: 0, max: 900_000 }),
        fc.integer({ min: 1, max: 60_000 }),
        (margin, remaining, configured) => {
          // The deadline ends `remaining - budget >= margin` ms before the Lambda's timeout.
          const budget = requestBudgetMs(configured, remaining, margin);
          if (budget > 0) expect(remaining - budget).toBeGreaterThanOrEqual(margin);
          expect(backstopMs(margin)).toBeLessThan(margin);
        },
      ),
      { numRuns: 300 },
    );
  });
});
