/**
 * A request's time limit: it fires when its time is up or when the caller's signal fires, and once
 * cleared it neither fires later nor keeps listening to the caller's signal. Fake timers: no test
 * waits on the clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { timeLimit } from '../../../../../functions/core/app/deadline.ts';

describe('timeLimit', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires with a TimeoutError when its time is up, not before', () => {
    const limit = timeLimit(1_000);
    vi.advanceTimersByTime(999);
    expect(limit.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(limit.signal.aborted).toBe(true);
    expect((limit.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it("fires as soon as the caller's signal fires, with its reason", () => {
    const caller = new AbortController();
    const limit = timeLimit(1_000, caller.signal);
    const reason = new Error('given up');
    caller.abort(reason);
    expect(limit.signal.aborted).toBe(true);
    expect(limit.signal.reason).toBe(reason);
  });

  it("starts fired when the caller's signal already has", () => {
    const caller = new AbortController();
    caller.abort();
    expect(timeLimit(1_000, caller.signal).signal.aborted).toBe(true);
  });

  it('once cleared, leaves no timer behind and no longer follows the caller', () => {
    const caller = new AbortController();
    const limit = timeLimit(1_000, caller.signal);
    expect(vi.getTimerCount()).toBe(1);
    limit.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5_000);
    caller.abort();
    expect(limit.signal.aborted).toBe(false);
  });
});
