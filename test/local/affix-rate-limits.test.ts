/**
 * The sandbox's rate limiter (Affix's documented 40/min per IP and 40/5 min per client_id, per
 * endpoint), `GET /_sandbox/stats` and `POST /_sandbox/faults`, in-process and over HTTP, with an
 * injected clock so no test waits for a window.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AffixSandbox,
  basicAuthHeader,
  CLIENT_PATH,
  createAffixSandbox,
  createRateLimiter,
  FAULTS_PATH,
  parseSandboxRateLimits,
  SANDBOX_DEFAULTS,
  STATS_PATH,
  startAffixSandbox,
} from '../../local/affix-sandbox.ts';

const AUTH = basicAuthHeader(SANDBOX_DEFAULTS.clientId, SANDBOX_DEFAULTS.clientSecret[0]);
const ORIGIN = 'https://affix.test';
const VALID_POST = JSON.stringify({
  client_secret: [...SANDBOX_DEFAULTS.clientSecret],
  redirect_uris: ['https://app.example.com/callback'],
  name: 'Renamed',
});

function clock(start = 1_000_000) {
  const state = { now: start };
  return { now: () => state.now, advance: (ms: number) => (state.now += ms) };
}

function limited(options: { perMethod?: boolean; remoteAddress?: string } = {}) {
  const time = clock();
  const sandbox = createAffixSandbox({
    rateLimits: options.perMethod === undefined ? {} : { perMethod: options.perMethod },
    clock: time.now,
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
  const get = (auth = AUTH) => sandbox.fetch(`${ORIGIN}${CLIENT_PATH}`, { headers: { authorization: auth } });
  const post = () =>
    sandbox.fetch(`${ORIGIN}${CLIENT_PATH}`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: VALID_POST,
    });
  return { sandbox, time, get, post };
}

async function statuses(requests: (() => Promise<Response>)[]): Promise<number[]> {
  const out: number[] = [];
  for (const request of requests) out.push((await request()).status);
  return out;
}

describe('the rate limiter', () => {
  it('answers the 41st request in a minute with 429, Affix MessageResponse and a Retry-After until a slot frees', async () => {
    const { get, time, sandbox } = limited();
    for (let i = 0; i < 40; i += 1) {
      expect((await get()).status).toBe(200);
      time.advance(1_000); // the first request at t=0, the 40th at t=39 s
    }
    // At t=40 s both budgets of this IP and client_id are spent: the IP's first slot frees at t=60 s,
    // the client_id's at t=300 s, and only both together admit a request.
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('260');
    expect(refused.headers.get('content-type')).toBe('application/json');
    const body = (await refused.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['message']);
    expect(typeof body.message).toBe('string');
    expect(sandbox.stats).toEqual({ requests: { GET: 41, POST: 0 }, rateLimited: 1 });
  });

  it('per IP alone (a new client_id each time): the 41st in a minute waits until the first leaves it', async () => {
    const { get, time } = limited();
    for (let i = 0; i < 40; i += 1) {
      expect((await get(basicAuthHeader(`client-${i}`, 'x'))).status).toBe(401);
      time.advance(1_000);
    }
    const refused = await get(basicAuthHeader('client-40', 'x'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('20');
  });

  it('frees the window: after Retry-After the next request is admitted (a refused request spends nothing)', async () => {
    const { get, time } = limited();
    const someone = (i: number) => () => get(basicAuthHeader(`client-${i}`, 'x'));
    await statuses(Array.from({ length: 40 }, (_, i) => someone(i)));
    const refused = await someone(40)();
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get('retry-after'));
    expect(wait).toBe(60);
    time.advance(wait * 1000 - 1);
    expect((await someone(41)()).status).toBe(429);
    time.advance(1);
    // 40 admitted at the same instant leave together: the whole per-IP budget is back.
    expect(await statuses(Array.from({ length: 40 }, (_, i) => someone(100 + i)))).toEqual(
      Array(40).fill(401),
    );
    expect((await someone(200)()).status).toBe(429);
  });

  it('limits per client_id over 5 minutes even when the per-IP minute has freed', async () => {
    const { get, time } = limited();
    for (let i = 0; i < 40; i += 1) await get();
    time.advance(61_000);
    const refused = await get();
    expect(refused.status).toBe(429);
    // The client's window frees 300 s after the first request, 239 s from now.
    expect(refused.headers.get('retry-after')).toBe('239');
    expect(((await refused.json()) as { message: string }).message).toMatch(/client_id/);
    // Another client_id from the same IP still has its own 5-minute budget (a 401, but admitted).
    expect((await get(basicAuthHeader('other-client', 'whatever'))).status).toBe(401);
  });

  it('limits per IP across client ids within a minute, and says which limit', async () => {
    const { get } = limited();
    for (let i = 0; i < 40; i += 1) {
      expect((await get(basicAuthHeader(`client-${i}`, 'x'))).status).toBe(401);
    }
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { message: string }).message).toMatch(/IP/);
  });

  it('GET and POST of the client path share one budget by default, and not with perMethod', async () => {
    const shared = limited();
    for (let i = 0; i < 20; i += 1) await shared.get();
    for (let i = 0; i < 20; i += 1) expect((await shared.post()).status).toBe(200);
    expect((await shared.post()).status).toBe(429);
    expect((await shared.get()).status).toBe(429);

    const split = limited({ perMethod: true });
    for (let i = 0; i < 40; i += 1) await split.get();
    expect((await split.get()).status).toBe(429);
    expect((await split.post()).status).toBe(200);
  });

  it('keys per IP: another IP has its own minute (the limiter alone)', () => {
    const time = clock();
    const limiter = createRateLimiter({ perClientId: { limit: 1000, windowMs: 300_000 } }, time.now);
    const request = (ip: string) => limiter.check({ method: 'GET', path: CLIENT_PATH, ip, clientId: 'c' });
    for (let i = 0; i < 40; i += 1) expect(request('10.0.0.1').admitted).toBe(true);
    expect(request('10.0.0.1')).toEqual({ admitted: false, retryAfterSeconds: 60, limit: 'ip' });
    expect(request('10.0.0.2').admitted).toBe(true);
  });

  it('is off by default in the factory, and off when configured false', async () => {
    for (const sandbox of [createAffixSandbox(), createAffixSandbox({ rateLimits: false })]) {
      const codes = await statuses(
        Array.from(
          { length: 45 },
          () => () => sandbox.fetch(`${ORIGIN}${CLIENT_PATH}`, { headers: { authorization: AUTH } }),
        ),
      );
      expect(codes).toEqual(Array(45).fill(200));
      expect(sandbox.stats.rateLimited).toBe(0);
    }
  });

  it('refuses a configuration without a positive limit', () => {
    expect(() => createRateLimiter({ perIp: { limit: 0, windowMs: 60_000 } })).toThrow(RangeError);
  });
});

describe('AFFIX_SANDBOX_RATE_LIMITS', () => {
  it('is on unless "off", and refuses anything else', () => {
    expect(parseSandboxRateLimits(undefined)).toBe(true);
    expect(parseSandboxRateLimits('')).toBe(true);
    expect(parseSandboxRateLimits('on')).toBe(true);
    expect(parseSandboxRateLimits('off')).toBe(false);
    expect(() => parseSandboxRateLimits('false')).toThrow(/AFFIX_SANDBOX_RATE_LIMITS must be "on" or "off"/);
  });
});

describe('/_sandbox/stats and /_sandbox/faults over HTTP', () => {
  let sandbox: AffixSandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it('counts every request that reached the client path, 429s included', async () => {
    const time = clock();
    sandbox = await startAffixSandbox({
      port: 0,
      rateLimits: { perIp: { limit: 2, windowMs: 60_000 } },
      clock: time.now,
    });
    const url = `${sandbox.url}${CLIENT_PATH}`;
    const stats = async () => (await fetch(`${sandbox?.url}${STATS_PATH}`)).json();
    expect(await stats()).toEqual({ requests: { GET: 0, POST: 0 }, rateLimited: 0 });
    expect((await fetch(url, { headers: { authorization: AUTH } })).status).toBe(200);
    const post = await fetch(url, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: VALID_POST,
    });
    expect(post.status).toBe(200);
    const refused = await fetch(url, { headers: { authorization: AUTH } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    // Paths other than the client's are not counted.
    await fetch(`${sandbox.url}/nothing`);
    expect(await stats()).toEqual({ requests: { GET: 2, POST: 1 }, rateLimited: 1 });
    expect((await fetch(`${sandbox.url}${STATS_PATH}`, { method: 'POST' })).status).toBe(405);
  });

  it('POST /_sandbox/faults: the next `count` requests get the status and Retry-After, then the normal answer', async () => {
    sandbox = await startAffixSandbox({ port: 0 });
    const queued = await fetch(`${sandbox.url}${FAULTS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 429, retryAfter: 60, count: 2 }),
    });
    expect(queued.status).toBe(200);
    const url = `${sandbox.url}${CLIENT_PATH}`;
    for (let i = 0; i < 2; i += 1) {
      const res = await fetch(url, { headers: { authorization: AUTH } });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('60');
      expect(await res.json()).toEqual({ message: 'Too many requests' });
    }
    expect((await fetch(url, { headers: { authorization: AUTH } })).status).toBe(200);
    // Injected 429s are Affix's answers, not the limiter's.
    expect(sandbox.stats).toEqual({ requests: { GET: 3, POST: 0 }, rateLimited: 0 });
  });

  it('POST /_sandbox/faults: count defaults to 1; a bad body is a 400 that queues nothing', async () => {
    sandbox = await startAffixSandbox({ port: 0 });
    const fault = (body: string) =>
      fetch(`${sandbox?.url}${FAULTS_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    for (const bad of [
      '{"status":429,',
      '[]',
      '{}',
      '{"status":"429"}',
      '{"status":200}',
      '{"status":429,"retryAfter":-1}',
      '{"status":429,"retryAfter":1.5}',
      '{"status":429,"count":0}',
      '{"status":429,"cuont":2}',
    ]) {
      const res = await fault(bad);
      expect(res.status, bad).toBe(400);
      expect(Object.keys((await res.json()) as object)).toEqual(['message', 'validation_error']);
    }
    expect((await fetch(`${sandbox.url}${CLIENT_PATH}`, { headers: { authorization: AUTH } })).status).toBe(
      200,
    );
    expect((await fault('{"status":503}')).status).toBe(200);
    const res = await fetch(`${sandbox.url}${CLIENT_PATH}`, { headers: { authorization: AUTH } });
    expect(res.status).toBe(503);
    expect((await fetch(`${sandbox.url}${CLIENT_PATH}`, { headers: { authorization: AUTH } })).status).toBe(
      200,
    );
  });

  it('the same through the in-process API', async () => {
    const inProcess = createAffixSandbox();
    const queued = await inProcess.fetch(`${ORIGIN}${FAULTS_PATH}`, {
      method: 'POST',
      body: JSON.stringify({ status: 500, count: 1, method: 'POST' }),
    });
    expect(queued.status).toBe(200);
    expect(
      (await inProcess.fetch(`${ORIGIN}${CLIENT_PATH}`, { headers: { authorization: AUTH } })).status,
    ).toBe(200);
    const post = await inProcess.fetch(`${ORIGIN}${CLIENT_PATH}`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: VALID_POST,
    });
    expect(post.status).toBe(500);
    expect(await (await inProcess.fetch(`${ORIGIN}${STATS_PATH}`)).json()).toEqual({
      requests: { GET: 1, POST: 1 },
      rateLimited: 0,
    });
  });
});
