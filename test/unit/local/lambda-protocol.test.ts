/**
 * The pool's protocol module alone: Lambda's refusal at the concurrency limit, the limits' constants,
 * and the real-clock schedule (driven by fake timers, so nothing waits).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_FUNCTION_TIMEOUT_MS,
  LAMBDA_INIT_TIMEOUT_MS,
  realSchedule,
  TooManyRequestsException,
} from '../../../local/lambda-protocol.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('TooManyRequestsException', () => {
  it("is Lambda's answer at the concurrency limit: its name, message and reason", () => {
    const error = new TooManyRequestsException();
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TooManyRequestsException');
    expect(error.message).toBe('Rate Exceeded.');
    expect(error.reason).toBe('ConcurrentInvocationLimitExceeded');
  });
});

describe('limits', () => {
  it("are Lambda's init limit (10 s) and the deployed function timeout (15 s)", () => {
    expect(LAMBDA_INIT_TIMEOUT_MS).toBe(10_000);
    expect(DEFAULT_FUNCTION_TIMEOUT_MS).toBe(15_000);
  });
});

describe('realSchedule', () => {
  it('runs the callback once after the delay, not before', () => {
    vi.useFakeTimers();
    const callback = vi.fn();
    realSchedule(callback, 1_000);
    vi.advanceTimersByTime(999);
    expect(callback).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(callback).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('returns what cancels it', () => {
    vi.useFakeTimers();
    const callback = vi.fn();
    const cancel = realSchedule(callback, 1_000);
    cancel();
    vi.advanceTimersByTime(5_000);
    expect(callback).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
