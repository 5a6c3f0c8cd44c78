import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../../../functions/contract/retry-after.ts';
import { createDeadline, requestBudgetMs } from '../../../../../functions/core/app/deadline.ts';
import {
  backoffDelayMs,
  failedWrite,
  isRetryable,
  outcomeToProblem,
} from '../../../../../functions/core/domain/upstream-outcome.ts';

describe('outcomeToProblem: the upstream half of the status table', () => {
  it.each([
    [{ kind: 'status', status: 400 }, 422, 'upstream-rejected'],
    [{ kind: 'status', status: 401 }, 502, 'upstream-auth-failed'],
    [{ kind: 'status', status: 409 }, 409, 'upstream-conflict'],
    [{ kind: 'status', status: 429, retryAfterSeconds: 7 }, 429, 'upstream-rate-limited'],
    [{ kind: 'status', status: 500 }, 502, 'upstream-error'],
    [{ kind: 'status', status: 503 }, 502, 'upstream-error'],
    [{ kind: 'status', status: 302 }, 502, 'upstream-error'],
    [{ kind: 'status', status: 404 }, 502, 'upstream-error'],
    [{ kind: 'bad-body', reason: 'schema' }, 502, 'upstream-bad-response'],
    [{ kind: 'network', code: 'ECONNRESET' }, 502, 'upstream-unreachable'],
    [{ kind: 'attempt-timeout' }, 504, 'upstream-timeout'],
    [{ kind: 'deadline' }, 504, 'upstream-timeout'],
  ] as const)('%o -> %i %s', (outcome, status, slug) => {
    const problem = outcomeToProblem(outcome);
    expect(problem.status).toBe(status);
    expect(problem.slug).toBe(slug);
  });

  it('passes Retry-After on for 429, and for 400 Affix words judged safe or only the fields it named', () => {
    expect(outcomeToProblem({ kind: 'status', status: 429, retryAfterSeconds: 7 }).retryAfterSeconds).toBe(7);
    const words = { kind: 'words', text: 'name too long' } as const;
    expect(outcomeToProblem({ kind: 'status', status: 400, upstreamText: words }).message).toBe(
      'Affix rejected the change: name too long',
    );
    const withheld = { kind: 'withheld', fields: ['name', 'client_secret'] } as const;
    expect(outcomeToProblem({ kind: 'status', status: 400, upstreamText: withheld }).message).toBe(
      'Affix rejected the change. Its message is withheld because it may repeat a secret. It mentioned: name, client_secret.',
    );
    expect(outcomeToProblem({ kind: 'status', status: 400 }).message).toBe('Affix rejected the change.');
  });
});

describe('isRetryable', () => {
  it('retries 429, 5xx, network errors and attempt timeouts, nothing else', () => {
    expect(isRetryable({ kind: 'status', status: 429 })).toBe(true);
    expect(isRetryable({ kind: 'status', status: 502 })).toBe(true);
    expect(isRetryable({ kind: 'network', code: 'ECONNREFUSED' })).toBe(true);
    expect(isRetryable({ kind: 'attempt-timeout' })).toBe(true);
    expect(isRetryable({ kind: 'status', status: 400 })).toBe(false);
    expect(isRetryable({ kind: 'status', status: 409 })).toBe(false);
    expect(isRetryable({ kind: 'deadline' })).toBe(false);
    expect(isRetryable({ kind: 'bad-body', reason: 'not-json' })).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates, ignores garbage', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-3')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });
});

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, scaled by jitter', () => {
    expect(backoffDelayMs(1, () => 0.999)).toBe(99);
    expect(backoffDelayMs(2, () => 0.999)).toBe(199);
    expect(backoffDelayMs(10, () => 0.999)).toBe(1998);
    expect(backoffDelayMs(3, () => 0)).toBe(0);
  });
});

describe('deadlines', () => {
  it('shrinks the budget to the Lambda remaining time minus the margin', () => {
    expect(requestBudgetMs(10_000, undefined, 1_000)).toBe(10_000);
    expect(requestBudgetMs(10_000, 60_000, 1_000)).toBe(10_000);
    expect(requestBudgetMs(10_000, 4_000, 1_000)).toBe(3_000);
    expect(requestBudgetMs(10_000, 500, 1_000)).toBe(0);
  });
  it('counts down on the given clock and never goes negative', () => {
    let now = 100;
    const deadline = createDeadline(50, () => now);
    expect(deadline.remainingMs()).toBe(50);
    now = 130;
    expect(deadline.remainingMs()).toBe(20);
    now = 500;
    expect(deadline.remainingMs()).toBe(0);
  });
});

describe('failedWrite: what a failed POST leaves at Affix', () => {
  it.each([
    ['a timeout', outcomeToProblem({ kind: 'deadline' }), 'may-still-land'],
    ['an attempt timeout', outcomeToProblem({ kind: 'attempt-timeout' }), 'may-still-land'],
    ['a reset connection', outcomeToProblem({ kind: 'network', code: 'ECONNRESET' }), 'may-still-land'],
    ['an abort or anything unexpected', new Error('aborted'), 'may-still-land'],
    ['an Affix 503', outcomeToProblem({ kind: 'status', status: 503 }), 'may-be-applied'],
    ['a 2xx we could not use', outcomeToProblem({ kind: 'bad-body', reason: 'schema' }), 'may-be-applied'],
    ['a refused connection', outcomeToProblem({ kind: 'network', code: 'ECONNREFUSED' }), 'not-applied'],
    ['an Affix 400', outcomeToProblem({ kind: 'status', status: 400 }), 'not-applied'],
    ['an Affix 401 after the refresh', outcomeToProblem({ kind: 'status', status: 401 }), 'not-applied'],
    ['an Affix 404', outcomeToProblem({ kind: 'status', status: 404 }), 'not-applied'],
    ['an Affix 409', outcomeToProblem({ kind: 'status', status: 409 }), 'not-applied'],
    ['an Affix 429', outcomeToProblem({ kind: 'status', status: 429 }), 'not-applied'],
  ])('%s', (_name, error, left) => {
    expect(failedWrite(error)).toBe(left);
  });
});
