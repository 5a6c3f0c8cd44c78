/**
 * The per-container cache of the client's secrets for webhook verification: its age, shared reads,
 * failures not cached, the bounded refresh after a mismatch, and priming. The clock is injected.
 */
import { describe, expect, it } from 'vitest';
import {
  createWebhookSecretsCache,
  DEFAULT_WEBHOOK_SECRETS_MAX_AGE_MS,
  DEFAULT_WEBHOOK_SECRETS_MIN_REFRESH_MS,
} from '../../../../../functions/core/app/credentials.ts';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import type { CallContext } from '../../../../../functions/core/ports.ts';

const call = (): CallContext => ({ deadline: createDeadline(10_000, () => 0) });

/** A cache over an Affix read that answers with `affix.secrets`, or hangs until released. */
function setup() {
  const clock = { ms: 1_000_000 };
  const affix = { secrets: ['secret-one'] as string[], reads: 0, fail: undefined as Error | undefined };
  const gates: (() => void)[] = [];
  let hold = false;
  const cache = createWebhookSecretsCache({
    now: () => clock.ms,
    read: async () => {
      affix.reads += 1;
      if (hold) await new Promise<void>((resolve) => gates.push(resolve));
      if (affix.fail !== undefined) throw affix.fail;
      return affix.secrets;
    },
  });
  return {
    cache,
    clock,
    affix,
    hold: (on: boolean) => {
      hold = on;
    },
    release: () => {
      for (const gate of gates.splice(0)) gate();
    },
  };
}

describe('get', () => {
  it('reads once and answers from the cache until the list is a minute old', async () => {
    const { cache, clock, affix } = setup();
    const first = await cache.get(call());
    expect(first).toEqual({ secrets: ['secret-one'], readAt: clock.ms });
    clock.ms += DEFAULT_WEBHOOK_SECRETS_MAX_AGE_MS - 1;
    affix.secrets = ['secret-two'];
    expect(await cache.get(call())).toBe(first);
    expect(affix.reads).toBe(1);
    clock.ms += 1;
    expect((await cache.get(call())).secrets).toEqual(['secret-two']);
    expect(affix.reads).toBe(2);
  });

  it('lets concurrent reads share one Affix request', async () => {
    const { cache, affix, hold, release } = setup();
    hold(true);
    const reads = [cache.get(call()), cache.get(call()), cache.get(call())];
    await Promise.resolve();
    release();
    const lists = await Promise.all(reads);
    expect(affix.reads).toBe(1);
    expect(new Set(lists).size).toBe(1);
  });

  it('does not cache a failed read: the next get asks again', async () => {
    const { cache, affix } = setup();
    affix.fail = new Error('Affix down');
    await expect(cache.get(call())).rejects.toThrow('Affix down');
    affix.fail = undefined;
    expect((await cache.get(call())).secrets).toEqual(['secret-one']);
    expect(affix.reads).toBe(2);
  });

  it('keeps its own copy of the list', async () => {
    const { cache, affix } = setup();
    await cache.get(call());
    affix.secrets.push('added-later');
    expect((await cache.get(call())).secrets).toEqual(['secret-one']);
  });
});

describe('refreshAfterMismatch', () => {
  it('reads again only once the list it saw is older than the minimum interval', async () => {
    const { cache, clock, affix } = setup();
    const seen = await cache.get(call());
    affix.secrets = ['secret-one', 'secret-new'];
    clock.ms += DEFAULT_WEBHOOK_SECRETS_MIN_REFRESH_MS - 1;
    expect(await cache.refreshAfterMismatch(call(), seen)).toBeUndefined();
    expect(affix.reads).toBe(1);
    clock.ms += 1;
    expect((await cache.refreshAfterMismatch(call(), seen))?.secrets).toEqual(['secret-one', 'secret-new']);
    expect(affix.reads).toBe(2);
  });

  it('bounds the reads however many forged deliveries arrive: one per interval', async () => {
    const { cache, clock, affix } = setup();
    let seen = await cache.get(call());
    for (let delivery = 0; delivery < 100; delivery += 1) {
      clock.ms += 1_000; // a forged delivery every second for 100 s
      seen = (await cache.refreshAfterMismatch(call(), seen)) ?? seen;
    }
    // The first read, then one per 15 s: at 15, 30, ..., 90 s.
    expect(affix.reads).toBe(1 + Math.floor(100_000 / DEFAULT_WEBHOOK_SECRETS_MIN_REFRESH_MS));
  });

  it('uses a list another request read meanwhile, without reading again', async () => {
    const { cache, clock, affix } = setup();
    const seen = await cache.get(call());
    clock.ms += 1;
    cache.prime(['secret-primed']);
    expect((await cache.refreshAfterMismatch(call(), seen))?.secrets).toEqual(['secret-primed']);
    expect(affix.reads).toBe(1);
  });

  it('joins a read already under way', async () => {
    const { cache, clock, affix, hold, release } = setup();
    const seen = await cache.get(call());
    clock.ms += DEFAULT_WEBHOOK_SECRETS_MAX_AGE_MS;
    hold(true);
    const reading = cache.get(call());
    const joined = cache.refreshAfterMismatch(call(), seen);
    await Promise.resolve();
    release();
    expect(await joined).toBe(await reading);
    expect(affix.reads).toBe(2);
  });
});

describe('prime', () => {
  it('replaces the list with one read for another reason, so a new secret verifies at once', async () => {
    const { cache, clock, affix } = setup();
    await cache.get(call());
    clock.ms += 5;
    cache.prime(['secret-one', 'secret-added']);
    expect(await cache.get(call())).toEqual({ secrets: ['secret-one', 'secret-added'], readAt: clock.ms });
    expect(affix.reads).toBe(1);
  });
});
