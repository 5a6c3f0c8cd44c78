/**
 * The read cache's pure rules: when the shared view (`state-item.ts`) is fresh, and the
 * `Cache-Control`/`Age` an answer carries.
 *
 * Freshness follows RFC 9111: `max-age` is the cache window (`CLIENT_CACHE_MAX_AGE_SECONDS`) and `Age`
 * how old the view is, so the view stays fresh for `max-age - Age` more seconds.
 *
 * @example
 * isFresh({ readAtMs: 1_000 }, 30_000, 20_000); // true: 19 s old, window 30 s
 * cacheHeaders(30, 19); // { 'cache-control': 'private, max-age=30', age: '19' }
 */
import { MAX_CLOCK_SKEW_MS, type StateView } from './state-item.ts';

/** Whole seconds since the read (never negative). */
export function ageSeconds(readAtMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - readAtMs) / 1_000));
}

/** Whether an entry may answer now: younger than the window, and not from a clock far ahead. */
export function isFresh(view: Pick<StateView, 'readAtMs'>, maxAgeMs: number, nowMs: number): boolean {
  if (maxAgeMs <= 0) return false;
  const age = nowMs - view.readAtMs;
  return age < maxAgeMs && age > -MAX_CLOCK_SKEW_MS;
}

/**
 * The caching headers of a `GET /client` answer while the cache is on. `private`: the answer is for an
 * authorized caller, so no shared intermediary may keep it; the caller's own client may, for the rest of
 * the window.
 */
export function cacheHeaders(maxAgeSeconds: number, age: number): Record<string, string> {
  return { 'cache-control': `private, max-age=${maxAgeSeconds}`, age: String(Math.min(age, maxAgeSeconds)) };
}

/** Whether the request's `Cache-Control` asks for a fresh read (`no-cache`, or `max-age=0`). */
export function requestsNoCache(cacheControl: string | undefined): boolean {
  if (cacheControl === undefined) return false;
  return cacheControl
    .toLowerCase()
    .split(',')
    .map((directive) => directive.trim().replace(/\s*=\s*/, '='))
    .some(
      (directive) => directive === 'no-cache' || directive === 'max-age=0' || directive === 'max-age="0"',
    );
}
