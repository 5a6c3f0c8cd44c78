import { describe, expect, it } from 'vitest';
import { singleFlight } from '../../../../../functions/core/app/credentials.ts';

/** A load the test settles by hand, counting how often it started. */
function manualLoad<T>() {
  const started: { resolve: (value: T) => void; reject: (error: unknown) => void }[] = [];
  const load = () =>
    new Promise<T>((resolve, reject) => {
      started.push({ resolve, reject });
    });
  return { load, started };
}

describe('singleFlight', () => {
  it('shares one running load between callers', async () => {
    const flight = singleFlight<number>();
    const { load, started } = manualLoad<number>();
    const first = flight.run(load);
    const second = flight.run(load);
    expect(started).toHaveLength(1);
    expect(flight.pending).toBe(first);
    started[0]?.resolve(7);
    expect(await Promise.all([first, second])).toEqual([7, 7]);
    expect(flight.pending).toBeUndefined();
  });

  it('keeps no failure: the next caller starts a fresh load', async () => {
    const flight = singleFlight<number>();
    const { load, started } = manualLoad<number>();
    const failed = flight.run(load);
    started[0]?.reject(new Error('SSM down'));
    await expect(failed).rejects.toThrow('SSM down');
    const again = flight.run(load);
    expect(started).toHaveLength(2);
    started[1]?.resolve(8);
    expect(await again).toBe(8);
  });
});
