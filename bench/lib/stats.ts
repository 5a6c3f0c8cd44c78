/**
 * Order statistics for the benchmark: quantiles by linear interpolation (the "R-7" rule spreadsheets
 * use) and a five-number summary, the shape in which every figure lands in `bench/results.json`.
 *
 * @example
 * summarize([3, 1, 2]); // { n: 3, median: 2, p25: 1.5, p75: 2.5, min: 1, max: 3 }
 */

export interface Summary {
  n: number;
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
}

export class EmptySampleError extends Error {
  override readonly name = 'EmptySampleError';
}

/** The `q` quantile (0 ≤ q ≤ 1) of values already sorted ascending. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new EmptySampleError('no values to take a quantile of');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

export function sortedCopy(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(sortedCopy(values), q);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = sortedCopy(values);
  return {
    n: sorted.length,
    median: quantileSorted(sorted, 0.5),
    p25: quantileSorted(sorted, 0.25),
    p75: quantileSorted(sorted, 0.75),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
  };
}

/** Rounds to `digits` decimals, for results that should not carry float noise. */
export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function roundSummary(summary: Summary, digits = 3): Summary {
  return {
    n: summary.n,
    median: round(summary.median, digits),
    p25: round(summary.p25, digits),
    p75: round(summary.p75, digits),
    min: round(summary.min, digits),
    max: round(summary.max, digits),
  };
}
