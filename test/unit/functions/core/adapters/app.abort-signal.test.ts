/**
 * middy's abort signal through the real chain: middy aborts its handler's `signal` at the
 * early-timeout backstop and answers 504; after that moment the Affix stand-in sees no request start.
 *
 * Our request deadline normally ends before the backstop, so the signal is a second line. To see it
 * alone, the invocation's clock runs short behind the deadline's back: the context reports 10 s left
 * when the handler takes its budget, and little more than the backstop when middy sets its timer
 * (middy reads it right after calling the handler), as after an environment was frozen and thawed.
 * Affix answers 503 to every request, so without the signal the sender would retry for its 5 s.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAffixHttpClient } from '../../../../../functions/core/adapters/affix-http.ts';
import { createHandler } from '../../../../../functions/core/adapters/app.ts';
import { backstopMs } from '../../../../../functions/core/app/deadline.ts';
import { parseEtagKey } from '../../../../../functions/core/domain/etag-key.ts';
import type { CredentialsProvider, ProxyCredentials } from '../../../../../functions/core/ports.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { apiEvent, lambdaContext } from '../../../../support/events.ts';
import { createInMemoryWriteLock } from '../../../../support/in-memory-write-lock.ts';

const MARGIN_MS = 400;
/** How long after middy reads the clock its signal fires. */
const SIGNAL_AFTER_MS = 120;

const credentialsValue: ProxyCredentials = {
  clientId: 'client-0000-abort',
  clientSecret: 'secret-AAAA-aaaa-0000-abort',
  etagKey: parseEtagKey(Buffer.alloc(32, 9).toString('base64')),
};
const credentials: CredentialsProvider = {
  get: () => Promise.resolve(credentialsValue),
  refresh: () => Promise.resolve(credentialsValue),
};

/**
 * Affix answering 503 after 15 ms to everything, noting when each request started and was aborted.
 * `performance.now` is faked and frozen in these tests; each request moves it on by the 15 ms it takes,
 * so the request deadline runs on Affix's time and ends only after hundreds of requests, whatever the load.
 */
function busyAffix() {
  const started: number[] = [];
  const aborted: number[] = [];
  const fetchImpl: typeof fetch = (_input, init) => {
    started.push(performance.now());
    vi.advanceTimersByTime(15);
    const signal = init?.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        aborted.push(performance.now());
        reject(new DOMException('This operation was aborted', 'AbortError'));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(new Response('{}', { status: 503 }));
      }, 15);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  };
  return { fetch: fetchImpl, started, aborted };
}

function chain(affixFetch: typeof fetch) {
  return createHandler({
    config: { upstreamDeadlineMs: 5_000, deadlineSafetyMarginMs: MARGIN_MS },
    ports: {
      credentials,
      writeLock: createInMemoryWriteLock(),
      affix: createAffixHttpClient({
        baseUrl: 'https://affix.test',
        credentials,
        attemptTimeoutMs: 1_000,
        maxAttempts: 1_000,
        fetch: affixFetch,
        random: () => 0,
      }),
    },
    logger: new Logger({ serviceName: 'affix-webhook-config' }),
    metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
  });
}

/** 10 s left at the handler's first reading; then only the backstop and a little more. */
function shrinkingContext(): Context {
  let reads = 0;
  return {
    ...lambdaContext(),
    getRemainingTimeInMillis: () => {
      reads += 1;
      return reads === 1 ? 10_000 : backstopMs(MARGIN_MS) + SIGNAL_AFTER_MS;
    },
  };
}

describe('the abort signal, through the chain', () => {
  captureOutput();

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers 504 at the backstop, and no Affix request starts after it', async () => {
    const affix = busyAffix();
    const handler = chain(affix.fetch);
    const began = performance.now();
    const result: APIGatewayProxyResult = await handler(
      apiEvent({ method: 'GET', path: '/client' }),
      shrinkingContext(),
    );
    const answeredAt = performance.now();
    expect(result.statusCode).toBe(504);
    expect(JSON.parse(result.body)).toMatchObject({ status: 504 });
    // The signal ended it, not the request deadline (5 s of Affix's time, never reached here).
    expect(answeredAt - began).toBeLessThan(5_000);
    // The sender was retrying until the signal fired.
    expect(affix.started.length).toBeGreaterThan(1);
    // Give a sender that ignored the signal time to show it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(affix.started.filter((at) => at >= answeredAt)).toEqual([]);
    // At most the one request running when the signal fired was cut short (affix-http.test.ts shows
    // the abort itself; here the signal may also land in the pause between two attempts).
    expect(affix.aborted.length).toBeLessThanOrEqual(1);
  });
});
