/** `Retry-After` read as seconds (RFC 9110 section 10.2.3), with the clock passed in. */
import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../../functions/contract/retry-after.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds, surrounding whitespace allowed', () => {
    expect(parseRetryAfter('17', NOW)).toBe(17);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120);
  });

  it('reads an HTTP-date as the whole seconds left, rounded up, never negative', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', NOW)).toBe(30);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', NOW + 500)).toBe(30);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', NOW + 501)).toBe(30);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:30 GMT', NOW + 1_000)).toBe(29);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:59:00 GMT', NOW)).toBe(0);
  });

  it('ignores what is no valid value rather than trusting it', () => {
    for (const value of ['-3', '1.5', '', '  ', 'soon', '1e3', '0x10', '12 s', 'Sun, 99 Foo 2026 x GMT']) {
      expect(parseRetryAfter(value, NOW), value).toBeUndefined();
    }
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    // A date without its weekday is no HTTP-date, even where Date.parse would read it.
    expect(parseRetryAfter('2026-03-01T12:00:30Z', NOW)).toBeUndefined();
  });

  it('refuses a delta-seconds beyond the safe integers instead of answering a float', () => {
    expect(parseRetryAfter(String(Number.MAX_SAFE_INTEGER), NOW)).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseRetryAfter('9'.repeat(23), NOW)).toBeUndefined();
  });
});
