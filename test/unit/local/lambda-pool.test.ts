/** `LAMBDA_CONCURRENCY` as the pool reads it (the pool itself is exercised in test/local). */
import { describe, expect, it } from 'vitest';
import { parseConcurrency } from '../../../local/lambda-pool.ts';

describe('LAMBDA_CONCURRENCY', () => {
  it.each([
    [undefined, 4],
    ['', 4],
    ['1', 1],
    ['8', 8],
    [' 2', 2], // the function's rule trims
  ])('%j gives %i', (raw, expected) => {
    expect(parseConcurrency(raw)).toBe(expected);
  });

  it.each(['0', '-1', '1.5', 'four', '65', '0x2'])('rejects %j, naming the variable', (raw) => {
    expect(() => parseConcurrency(raw)).toThrow(/LAMBDA_CONCURRENCY/);
  });
});
