/** The pure rules of the rate budget: cache freshness and headers, back-off arithmetic, field digests. */
import { describe, expect, it } from 'vitest';
import { backoffProblem } from '../../../../../functions/core/app/shared-state.ts';
import { toUpdate } from '../../../../../functions/core/domain/client-state.ts';
import { parseEtagKey } from '../../../../../functions/core/domain/etag-key.ts';
import {
  ageSeconds,
  cacheHeaders,
  isFresh,
  requestsNoCache,
} from '../../../../../functions/core/domain/read-cache.ts';
import {
  backoffRemainingSeconds,
  differingFields,
  fieldDigests,
  judgeRead,
  MAX_CLOCK_SKEW_MS,
  type SeenState,
} from '../../../../../functions/core/domain/state-item.ts';
import { ETAG_KEY, parsedClient, SECRET_A, SECRET_B } from '../../../../support/affix-fixtures.ts';

describe('read cache rules', () => {
  it('is fresh while younger than the window, never when the window is 0', () => {
    expect(isFresh({ readAtMs: 1_000 }, 30_000, 1_000)).toBe(true);
    expect(isFresh({ readAtMs: 1_000 }, 30_000, 30_999)).toBe(true);
    expect(isFresh({ readAtMs: 1_000 }, 30_000, 31_000)).toBe(false);
    expect(isFresh({ readAtMs: 1_000 }, 0, 1_000)).toBe(false);
  });

  it('does not trust an entry from a clock far ahead', () => {
    expect(isFresh({ readAtMs: 10_000 }, 30_000, 10_000 - MAX_CLOCK_SKEW_MS + 1)).toBe(true);
    expect(isFresh({ readAtMs: 10_000 }, 30_000, 10_000 - MAX_CLOCK_SKEW_MS)).toBe(false);
  });

  it('counts Age in whole seconds, never negative, and caps it at max-age in the headers', () => {
    expect(ageSeconds(1_000, 1_999)).toBe(0);
    expect(ageSeconds(1_000, 20_500)).toBe(19);
    expect(ageSeconds(5_000, 4_000)).toBe(0);
    expect(cacheHeaders(30, 19)).toEqual({ 'cache-control': 'private, max-age=30', age: '19' });
    expect(cacheHeaders(30, 45)).toEqual({ 'cache-control': 'private, max-age=30', age: '30' });
  });

  it('reads no-cache (and max-age=0) among other directives, case-insensitively', () => {
    expect(requestsNoCache(undefined)).toBe(false);
    expect(requestsNoCache('no-cache')).toBe(true);
    expect(requestsNoCache('No-Cache')).toBe(true);
    expect(requestsNoCache('max-stale, no-cache')).toBe(true);
    expect(requestsNoCache('max-age = 0')).toBe(true);
    expect(requestsNoCache('max-age=10')).toBe(false);
    expect(requestsNoCache('no-cache-please')).toBe(false);
  });
});

describe('back-off rules', () => {
  it('rounds the remaining time up and ends at 0', () => {
    const notBefore = 61_000;
    expect(backoffRemainingSeconds(notBefore, 1_000)).toBe(60);
    expect(backoffRemainingSeconds(notBefore, 1_001)).toBe(60);
    expect(backoffRemainingSeconds(notBefore, 2_000)).toBe(59);
    expect(backoffRemainingSeconds(notBefore, 60_999)).toBe(1);
    expect(backoffRemainingSeconds(notBefore, 61_000)).toBe(0);
    expect(backoffRemainingSeconds(undefined, 1_000)).toBe(0);
    // Never more than Affix's window.
    expect(backoffRemainingSeconds(86_400_000, 0)).toBe(300);
  });

  it('answers upstream-rate-limited with the remaining Retry-After', () => {
    const problem = backoffProblem(42);
    expect(problem.slug).toBe('upstream-rate-limited');
    expect(problem.retryAfterSeconds).toBe(42);
  });
});

describe('outside-change rules', () => {
  const base = parsedClient();
  const digests = (change: Partial<ReturnType<typeof toUpdate>> = {}) =>
    fieldDigests({ ...toUpdate(base), ...change }, ETAG_KEY);

  it('names exactly the fields that differ, unmodelled fields as one', () => {
    expect(differingFields(digests(), digests())).toEqual([]);
    expect(differingFields(digests(), digests({ webhook_uri: 'https://evil.example.com/' }))).toEqual([
      'webhook_uri',
    ]);
    expect(differingFields(digests(), digests({ client_secret: [SECRET_A, SECRET_B] }))).toEqual([
      'client_secret',
    ]);
    expect(differingFields(digests(), digests({ extra: { logo: 'x' }, name: 'Other' }))).toEqual([
      'name',
      'unmodelled',
    ]);
    // Order of list items counts.
    const two = ['https://a.example.com/', 'https://b.example.com/'];
    expect(
      differingFields(digests({ redirect_uris: two }), digests({ redirect_uris: [...two].reverse() })),
    ).toEqual(['redirect_uris']);
  });

  it('holds no value: digests are keyed and neither a secret nor a URL appears in them', () => {
    const text = JSON.stringify(digests());
    expect(text).not.toContain(SECRET_A);
    expect(text).not.toContain('hooks.example.com');
    // Another key gives other digests: a reader of the table cannot test guesses.
    const other = fieldDigests(toUpdate(base), parseEtagKey(Buffer.alloc(32, 7).toString('base64')));
    expect(other.client_secret).not.toBe(digests().client_secret);
  });

  it('judges a read: first, same, our pending write, a stale read, or an outside change', () => {
    const before = digests();
    const after = digests({ webhook_uri: 'https://hooks.example.com/moved' });
    const seen: SeenState = { fields: before, version: 3 };
    expect(judgeRead(undefined, before, 0)).toEqual({ kind: 'first' });
    expect(judgeRead(seen, before, 0)).toEqual({ kind: 'same' });
    expect(judgeRead(seen, after, 0)).toEqual({ kind: 'outside', fields: ['webhook_uri'] });
    expect(judgeRead({ ...seen, pending: after }, after, 0)).toEqual({ kind: 'pending-write' });
    const written: SeenState = { fields: after, version: 4, replaced: before, changedAtMs: 5_000 };
    expect(judgeRead(written, before, 4_900)).toEqual({ kind: 'stale-read' });
    // A read that began after the write was recorded and still finds the old state: changed back outside.
    expect(judgeRead(written, before, 5_001)).toEqual({ kind: 'outside', fields: ['webhook_uri'] });
  });
});
