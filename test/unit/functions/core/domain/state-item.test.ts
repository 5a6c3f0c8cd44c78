/** The shared state item's pure rules: validation on read, the sliding window, the readers' share. */
import { describe, expect, it } from 'vitest';
import {
  AFFIX_WINDOW_MS,
  BUCKET_MS,
  backoffRemainingSeconds,
  bucketOf,
  cappedRetryAfter,
  DEFAULT_AFFIX_LIMIT,
  expiredBuckets,
  parseState,
  readShare,
  spentAttribute,
  spentInWindow,
  WRITER_RESERVE,
} from '../../../../../functions/core/domain/state-item.ts';

const NOW = 1_800_000_000_000;
const view = {
  client: {
    client_id: 'client-1',
    name: 'App',
    redirect_uris: ['https://app.example.com/cb'],
    webhook_uri: null,
    client_secret: ['****abcd', '****'],
  },
  etag: '"AAAAAAAAAAAAAAAAAAAAAA"',
  readAtMs: NOW - 1_000,
};

describe('reading the item', () => {
  it('accepts a well-formed item part by part', () => {
    const { state, refused } = parseState(
      {
        pk: 'affix-client',
        sk: 'state',
        owner: 'o',
        expiresAtMs: NOW + 5,
        view,
        notBeforeMs: NOW + 60_000,
        [spentAttribute(7)]: 3,
        ttl: 1,
      },
      NOW,
    );
    expect(refused).toEqual([]);
    expect(state.view).toEqual(view);
    expect(state.lease).toEqual({ owner: 'o', expiresAtMs: NOW + 5 });
    expect(state.notBeforeMs).toBe(NOW + 60_000);
    expect([...state.spent]).toEqual([[7, 3]]);
  });

  it('refuses a view holding a raw secret, or any field it does not know, and never serves it', () => {
    const raw = { ...view, client: { ...view.client, client_secret: ['sandbox-secret-aaaaaaaaaaaaaaaa'] } };
    expect(parseState({ view: raw }, NOW)).toEqual({
      state: expect.objectContaining({ view: undefined }),
      refused: ['view'],
    });
    const extra = { ...view, client: { ...view.client, secret: 'x' } };
    expect(parseState({ view: extra }, NOW).refused).toEqual(['view']);
    expect(parseState({ view: { ...view, etag: 'no quotes' } }, NOW).refused).toEqual(['view']);
  });

  it('ignores a back-off beyond Affix window (1e100 included), a negative or absurd count, a broken lease', () => {
    expect(parseState({ notBeforeMs: 1e100 }, NOW)).toEqual({
      state: expect.objectContaining({ notBeforeMs: undefined }),
      refused: ['back-off'],
    });
    expect(parseState({ notBeforeMs: NOW + AFFIX_WINDOW_MS + 60_000 }, NOW).refused).toEqual(['back-off']);
    expect(parseState({ [spentAttribute(1)]: -1 }, NOW).refused).toEqual(['spent']);
    expect(parseState({ [spentAttribute(1)]: 1e9 }, NOW).refused).toEqual(['spent']);
    expect(parseState({ owner: '', expiresAtMs: 5 }, NOW).refused).toEqual(['lease']);
  });
});

describe('the sliding window', () => {
  it('counts a bucket while any part of it is in the last 5 minutes, and drops it after', () => {
    const current = bucketOf(NOW);
    const spent = new Map([
      [current, 2],
      [current - 10, 5],
      [current - 11, 7],
    ]);
    // NOW sits on a bucket edge: current - 10 ends 270 s ago (counts), current - 11 ended 300 s ago.
    expect(NOW % BUCKET_MS).toBe(0);
    expect(spentInWindow(spent, NOW)).toBe(7);
    expect(expiredBuckets(spent, NOW)).toEqual([current - 11]);
  });

  it('lets reads spend only what the writers reserve leaves, and says when a slot frees (at most 300 s)', () => {
    const share = DEFAULT_AFFIX_LIMIT - WRITER_RESERVE;
    const at = bucketOf(NOW) * BUCKET_MS;
    expect(readShare(new Map([[bucketOf(at), share - 1]]), at)).toEqual({ allowed: true });
    const spent = readShare(new Map([[bucketOf(at), share]]), at);
    expect(spent).toEqual({ allowed: false, retryAfterSeconds: 300 });
    // Writes spent the rest too: still the readers' wait, never beyond the window.
    const older = readShare(new Map([[bucketOf(at) - 5, share]]), at);
    expect(older).toEqual({ allowed: false, retryAfterSeconds: (AFFIX_WINDOW_MS - 4 * BUCKET_MS) / 1_000 });
  });

  it('caps a 429 Retry-After and the remaining back-off at Affix window', () => {
    expect(cappedRetryAfter(86_400)).toBe(300);
    expect(cappedRetryAfter(17)).toBe(17);
    expect(backoffRemainingSeconds(NOW + 86_400_000, NOW)).toBe(300);
    expect(backoffRemainingSeconds(NOW - 1, NOW)).toBe(0);
  });
});
