/**
 * The per-container secret list asks, on every `get`, whether it is still the list the shared state
 * last recorded: a list another container or function changed is read again at once, whatever its age.
 */
import { describe, expect, it } from 'vitest';
import { createWebhookSecretsCache } from '../../../../../functions/core/app/credentials.ts';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import { parseEtagKey } from '../../../../../functions/core/domain/etag-key.ts';
import { secretListDigest } from '../../../../../functions/core/domain/state-item.ts';
import type { CallContext } from '../../../../../functions/core/ports.ts';
import { ETAG_KEY_BASE64 } from '../../../../support/affix-fixtures.ts';

const call = (): CallContext => ({ deadline: createDeadline(1_000) });

function cacheOver(lists: string[][], isCurrent?: () => boolean) {
  let reads = 0;
  const cache = createWebhookSecretsCache({
    read: async () => lists[Math.min(reads++, lists.length - 1)] ?? [],
    now: () => 1_000,
    ...(isCurrent === undefined ? {} : { isCurrent: async () => isCurrent() }),
  });
  return { cache, reads: () => reads };
}

describe('a cached secret list checked against the recorded one', () => {
  it('a young list that is still the recorded one is served without a read', async () => {
    const { cache, reads } = cacheOver([['s1']], () => true);
    await cache.get(call());
    expect((await cache.get(call())).secrets).toEqual(['s1']);
    expect(reads()).toBe(1);
  });

  it('a young list that is no longer the recorded one is read again at once', async () => {
    let current = true;
    const { cache, reads } = cacheOver([['s1', 's2'], ['s1']], () => current);
    expect((await cache.get(call())).secrets).toEqual(['s1', 's2']);
    current = false;
    expect((await cache.get(call())).secrets).toEqual(['s1']);
    expect(reads()).toBe(2);
  });

  it('without a record to compare with, a young list is served as before', async () => {
    const { cache, reads } = cacheOver([['s1']]);
    await cache.get(call());
    await cache.get(call());
    expect(reads()).toBe(1);
  });
});

describe('secretListDigest', () => {
  const key = parseEtagKey(ETAG_KEY_BASE64);
  it('is equal for equal lists and differs when a secret is removed, added or reordered', () => {
    const digest = secretListDigest(['a-secret', 'b-secret'], key);
    expect(secretListDigest(['a-secret', 'b-secret'], key)).toBe(digest);
    expect(secretListDigest(['a-secret'], key)).not.toBe(digest);
    expect(secretListDigest(['a-secret', 'b-secret', 'c-secret'], key)).not.toBe(digest);
    expect(secretListDigest(['b-secret', 'a-secret'], key)).not.toBe(digest);
  });

  it('never contains a secret', () => {
    expect(secretListDigest(['sandbox-secret-aaaaaaaaaaaaaaaa'], key)).not.toContain('aaaa');
  });
});
