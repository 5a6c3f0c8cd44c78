/**
 * Interleaving for paired (and tripled) latency samples: iteration `i` runs the contenders in a
 * rotated order, so each one runs first, second, ... equally often and none always follows another's
 * garbage or warms the connection pool for it.
 *
 * @example
 * rotation(['locked', 'unlocked', 'floor'], 1); // ['unlocked', 'floor', 'locked']
 */
export function rotation<T>(items: readonly T[], iteration: number): T[] {
  if (!Number.isInteger(iteration) || iteration < 0) {
    throw new RangeError(`iteration must be a whole number ≥ 0, got ${iteration}`);
  }
  const n = items.length;
  if (n === 0) return [];
  const shift = iteration % n;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
