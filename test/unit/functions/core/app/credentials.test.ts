import { describe, expect, it } from 'vitest';
import { basicAuthorization, createCredentialsCache } from '../../../../../functions/core/app/credentials.ts';
import { ETAG_KEY } from '../../../../support/affix-fixtures.ts';

function loader() {
  let calls = 0;
  let fail = false;
  const resolvers: (() => void)[] = [];
  return {
    get calls() {
      return calls;
    },
    setFail: (value: boolean) => {
      fail = value;
    },
    /** Loads wait until released, to observe concurrency. */
    hold: false,
    release: () => {
      for (const resolve of resolvers.splice(0)) resolve();
    },
    async load(this: { hold: boolean }) {
      calls += 1;
      const n = calls;
      if (this.hold) await new Promise<void>((resolve) => resolvers.push(resolve));
      if (fail) throw new Error('ssm down');
      return { clientId: 'id', clientSecret: `secret-${n}`, etagKey: ETAG_KEY };
    },
  };
}

describe('createCredentialsCache', () => {
  it('counts maxAge from when a slow load arrived, not from when it started', async () => {
    let now = 0;
    const source = loader();
    source.hold = true;
    const cache = createCredentialsCache({ load: () => source.load(), maxAgeMs: 1_000, now: () => now });
    const first = cache.get();
    now = 1_500; // the load took longer than maxAge (SDK retries on a throttled SSM)
    source.hold = false;
    source.release();
    expect((await first).clientSecret).toBe('secret-1');
    now = 2_499;
    expect((await cache.get()).clientSecret).toBe('secret-1');
    expect(source.calls).toBe(1);
  });

  it('fetches once and serves from cache until maxAge passes', async () => {
    let now = 0;
    const source = loader();
    const cache = createCredentialsCache({ load: () => source.load(), maxAgeMs: 1_000, now: () => now });
    expect((await cache.get()).clientSecret).toBe('secret-1');
    now = 999;
    expect((await cache.get()).clientSecret).toBe('secret-1');
    now = 1_000;
    expect((await cache.get()).clientSecret).toBe('secret-2');
    expect(source.calls).toBe(2);
  });

  it('shares one fetch among concurrent callers', async () => {
    const source = loader();
    source.hold = true;
    const cache = createCredentialsCache({ load: () => source.load(), maxAgeMs: 1_000 });
    const all = Promise.all(Array.from({ length: 100 }, () => cache.get()));
    source.release();
    const results = await all;
    expect(source.calls).toBe(1);
    expect(new Set(results.map((r) => r.clientSecret))).toEqual(new Set(['secret-1']));
  });

  it('never caches a failure: the next call fetches again', async () => {
    const source = loader();
    const cache = createCredentialsCache({ load: () => source.load(), maxAgeMs: 1_000 });
    source.setFail(true);
    await expect(cache.get()).rejects.toThrow('ssm down');
    await expect(cache.get()).rejects.toThrow('ssm down');
    source.setFail(false);
    expect((await cache.get()).clientSecret).toBe('secret-3');
    expect((await cache.get()).clientSecret).toBe('secret-3');
  });

  it('refresh() replaces the cached value; a failed refresh rejects and keeps the last good value', async () => {
    const source = loader();
    const cache = createCredentialsCache({ load: () => source.load(), maxAgeMs: 60_000 });
    await cache.get();
    expect((await cache.refresh()).clientSecret).toBe('secret-2');
    expect((await cache.get()).clientSecret).toBe('secret-2');
    source.setFail(true);
    await expect(cache.refresh()).rejects.toThrow();
    // The outage evicted nothing: later reads are served from the cache without asking SSM.
    const calls = source.calls;
    expect((await cache.get()).clientSecret).toBe('secret-2');
    expect(source.calls).toBe(calls);
    source.setFail(false);
    expect((await cache.refresh()).clientSecret).toBe('secret-4');
    expect((await cache.get()).clientSecret).toBe('secret-4');
  });

  it('a failed refresh does not extend the last good value past its age', async () => {
    let clock = 0;
    const source = loader();
    const cache = createCredentialsCache({ load: () => source.load(), maxAgeMs: 1_000, now: () => clock });
    await cache.get();
    source.setFail(true);
    await expect(cache.refresh()).rejects.toThrow();
    clock = 999;
    expect((await cache.get()).clientSecret).toBe('secret-1');
    clock = 1_000;
    await expect(cache.get()).rejects.toThrow();
  });
});

describe('basicAuthorization', () => {
  it('is Basic base64(id:secret) without line wrapping', () => {
    const header = basicAuthorization({ clientId: 'a'.repeat(40), clientSecret: 'b'.repeat(60) });
    expect(header).toBe(`Basic ${Buffer.from(`${'a'.repeat(40)}:${'b'.repeat(60)}`).toString('base64')}`);
    expect(header).not.toContain('\n');
    expect(basicAuthorization({ clientId: 'demo', clientSecret: 'p@55w0rd' })).toBe(
      'Basic ZGVtbzpwQDU1dzByZA==',
    );
  });
});
