import { describe, expect, it } from 'vitest';
import { ClientConfigError, type ClientConfigErrorSlug } from '../../../../clients/index.ts';
import { whileLockBusy } from '../../../support/lock-busy.ts';

const problem = (slug: ClientConfigErrorSlug, status: number, retryAfterSeconds?: number) =>
  new ClientConfigError({
    slug,
    type: `urn:test:${slug}`,
    status,
    title: slug,
    detail: slug,
    retryAfterSeconds,
  });

/** A call that fails with `failures` in turn, then answers `'done'`; counts its calls and the sleeps. */
function scripted(failures: ClientConfigError[]) {
  const sleeps: number[] = [];
  let calls = 0;
  const call = async () => {
    const failure = failures[calls];
    calls += 1;
    if (failure !== undefined) throw failure;
    return 'done';
  };
  return { call, sleeps, calls: () => calls, sleep: async (ms: number) => void sleeps.push(ms) };
}

describe('whileLockBusy', () => {
  it('sends a write again after a 503 that sent nothing, waiting its Retry-After up to 1 s', async () => {
    const run = scripted([problem('write-lock-unavailable', 503, 1), problem('write-contention', 503, 3)]);
    await expect(whileLockBusy(run.call, 10, run.sleep)).resolves.toBe('done');
    expect(run.calls()).toBe(3);
    expect(run.sleeps).toEqual([1_000, 1_000]);
  });

  it('never repeats any other failure: a 412 or an upstream timeout is the answer', async () => {
    for (const failure of [problem('precondition-failed', 412), problem('upstream-timeout', 504)]) {
      const run = scripted([failure]);
      await expect(whileLockBusy(run.call, 10, run.sleep)).rejects.toBe(failure);
      expect(run.calls()).toBe(1);
    }
  });

  it('gives up after its attempts with the last failure', async () => {
    const busy = Array.from({ length: 5 }, () => problem('write-lock-unavailable', 503, 1));
    const run = scripted(busy);
    await expect(whileLockBusy(run.call, 3, run.sleep)).rejects.toBe(busy[2]);
    expect(run.calls()).toBe(3);
  });
});
