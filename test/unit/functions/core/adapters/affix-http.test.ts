/**
 * The sending half of the Affix adapter: attempts counted against `maxAttempts` (the one 401
 * refresh is not), and the call's abort signal (a running fetch aborted, no attempt and no backoff
 * sleep after it). A scripted `fetch`, no sockets.
 */
import { describe, expect, it, vi } from 'vitest';
import { createAffixHttpClient } from '../../../../../functions/core/adapters/affix-http.ts';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import { parseEtagKey } from '../../../../../functions/core/domain/etag-key.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import type { CredentialsProvider, ProxyCredentials } from '../../../../../functions/core/ports.ts';

const CLIENT = {
  client_id: 'client-0000-http',
  client_secret: ['secret-HHHH-hhhh-0000-http'],
  name: 'Http App',
  redirect_uris: ['https://app.example.com/callback'],
  webhook_uri: null,
};

const credentialsValue: ProxyCredentials = {
  clientId: CLIENT.client_id,
  clientSecret: CLIENT.client_secret[0] as string,
  etagKey: parseEtagKey(Buffer.alloc(32, 7).toString('base64')),
};

function credentials(): CredentialsProvider & { refreshes: number } {
  const provider = {
    refreshes: 0,
    get: () => Promise.resolve(credentialsValue),
    refresh: () => {
      provider.refreshes += 1;
      return Promise.resolve(credentialsValue);
    },
  };
  return provider;
}

type Answer = number | ((signal: AbortSignal | undefined) => Promise<Response>);

/** A fetch answering in order: a status number (with the client for 200), or a function. */
function scripted(...answers: Answer[]) {
  const started: number[] = [];
  const fetchImpl: typeof fetch = async (_input, init) => {
    started.push(performance.now());
    const next = answers.shift() ?? 500;
    if (typeof next === 'function') return next(init?.signal ?? undefined);
    return next === 200 ? Response.json(CLIENT) : new Response('{}', { status: next });
  };
  return { fetch: fetchImpl, started };
}

function client(fetchImpl: typeof fetch, maxAttempts: number, sleep?: (ms: number) => Promise<void>) {
  const provider = credentials();
  const affix = createAffixHttpClient({
    baseUrl: 'https://affix.test',
    credentials: provider,
    attemptTimeoutMs: 1_000,
    maxAttempts,
    fetch: fetchImpl,
    random: () => 0,
    ...(sleep === undefined ? {} : { sleep }),
  });
  return { affix, provider };
}

const slug = (error: unknown) => (error instanceof ProblemError ? error.slug : String(error));

describe('attempts', () => {
  it('the 401 before the one refresh is not counted: one attempt allowed, 401 then 200 succeeds', async () => {
    const { fetch, started } = scripted(401, 200);
    const { affix, provider } = client(fetch, 1);
    const read = await affix.getClient({ deadline: createDeadline(2_000) });
    expect(read.client_id).toBe(CLIENT.client_id);
    expect(started).toHaveLength(2);
    expect(provider.refreshes).toBe(1);
  });

  it('after the refresh, every attempt counts: two allowed, 401 503 503 is three fetches, then 502', async () => {
    const { fetch, started } = scripted(401, 503, 503, 200);
    const { affix } = client(fetch, 2, () => Promise.resolve());
    const error = await affix.getClient({ deadline: createDeadline(2_000) }).catch((e: unknown) => e);
    expect(slug(error)).toBe('upstream-error');
    expect(started).toHaveLength(3);
  });

  it('a second 401 is final: no second refresh', async () => {
    const { fetch, started } = scripted(401, 401, 200);
    const { affix, provider } = client(fetch, 3, () => Promise.resolve());
    const error = await affix.getClient({ deadline: createDeadline(2_000) }).catch((e: unknown) => e);
    expect(slug(error)).toBe('upstream-auth-failed');
    expect(started).toHaveLength(2);
    expect(provider.refreshes).toBe(1);
  });
});

describe('the abort signal', () => {
  it('aborts the running fetch and starts no further attempt', async () => {
    // Fake timers and clock: the abort is placed at 30 ms exactly, whatever the machine's load.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const controller = new AbortController();
      let abortSeenAtMs: number | undefined;
      const hang = (signal: AbortSignal | undefined) =>
        new Promise<Response>((_resolve, reject) => {
          signal?.addEventListener('abort', () => {
            abortSeenAtMs = performance.now() - began;
            reject(new DOMException('aborted', 'AbortError'));
          });
        });
      const { fetch, started } = scripted(hang, 200, 200);
      const { affix } = client(fetch, 3, () => Promise.resolve());
      setTimeout(() => controller.abort(), 30);
      const began = performance.now();
      const answer = affix
        .getClient({ deadline: createDeadline(2_000), signal: controller.signal })
        .catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(30);
      // Cut at the signal (30 ms), not at the attempt's own 1 s timeout.
      expect(abortSeenAtMs).toBe(30);
      expect(slug(await answer)).toBe('upstream-timeout');
      expect(started).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('ends a backoff sleep early and starts no attempt after it', async () => {
    // Fake timers and clock: the abort is placed at 20 ms exactly, whatever the machine's load.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const controller = new AbortController();
      const retryAfter = async () => new Response('{}', { status: 503, headers: { 'retry-after': '1' } });
      const { fetch, started } = scripted(retryAfter, 200);
      // The default (abortable) sleep, for the 1 s the 503's Retry-After asks.
      const provider = credentials();
      const affix = createAffixHttpClient({
        baseUrl: 'https://affix.test',
        credentials: provider,
        attemptTimeoutMs: 1_000,
        maxAttempts: 3,
        fetch,
      });
      setTimeout(() => controller.abort(), 20);
      const began = performance.now();
      let answeredAtMs: number | undefined;
      const answer = affix
        .getClient({ deadline: createDeadline(5_000), signal: controller.signal })
        .catch((e: unknown) => e)
        .finally(() => {
          answeredAtMs = performance.now() - began;
        });
      await vi.advanceTimersByTimeAsync(20);
      // The wait after the 503 would be 1 s; the abort at 20 ms ends it.
      expect(answeredAtMs).toBe(20);
      expect(slug(await answer)).toBe('upstream-error');
      expect(started).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('starts nothing when the signal has already fired', async () => {
    const { fetch, started } = scripted(200);
    const { affix } = client(fetch, 3);
    const error = await affix
      .getClient({ deadline: createDeadline(2_000), signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(slug(error)).toBe('upstream-timeout');
    expect(started).toHaveLength(0);
  });
});
