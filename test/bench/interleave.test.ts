/** The rotation that interleaves the lock-cost triplets: every contender takes every place equally. */
import { describe, expect, it } from 'vitest';
import { rotation } from '../../bench/lib/interleave.ts';

describe('rotation', () => {
  it('rotates by the iteration, wrapping around', () => {
    expect(rotation(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotation(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotation(['a', 'b', 'c'], 5)).toEqual(['c', 'a', 'b']);
    expect(rotation([], 3)).toEqual([]);
  });

  it('puts each contender first, second and third equally often over whole cycles', () => {
    const places = new Map<string, number[]>([
      ['a', [0, 0, 0]],
      ['b', [0, 0, 0]],
      ['c', [0, 0, 0]],
    ]);
    for (let i = 0; i < 300; i += 1) {
      rotation(['a', 'b', 'c'], i).forEach((name, place) => {
        const counts = places.get(name) as number[];
        counts[place] = (counts[place] ?? 0) + 1;
      });
    }
    for (const counts of places.values()) expect(counts).toEqual([100, 100, 100]);
  });

  it('refuses a negative or fractional iteration', () => {
    expect(() => rotation(['a'], -1)).toThrow(RangeError);
    expect(() => rotation(['a'], 0.5)).toThrow(RangeError);
  });
});
