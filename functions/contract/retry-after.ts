/**
 * `Retry-After` (RFC 9110 §10.2.3) read as seconds: shared by the function (Affix's answers) and the
 * caller client (ours). Pure: no AWS or Node imports.
 *
 * @example
 * parseRetryAfter('17'); // 17
 * parseRetryAfter('-3'); // undefined
 */

/**
 * `Retry-After` as seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). Unparseable values are
 * ignored rather than trusted.
 */
export function parseRetryAfter(value: string | null, nowMs: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    // Beyond 2^53 the number is a float, and String(1e23) = '1e+23' is no valid Retry-After.
    const seconds = Number(trimmed);
    return Number.isSafeInteger(seconds) ? seconds : undefined;
  }
  // An HTTP-date names its weekday and month; anything else (such as "-3") is not one.
  if (!/^[A-Za-z]{3}, /.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1_000));
}
