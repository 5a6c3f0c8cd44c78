/**
 * `POST /webhooks/verify` through the real middy chain with the real use case and Affix HTTP client
 * (in-memory Affix `fetch`), plus the pure signature check and the per-container secret list cache.
 */
import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_MAX_BODY_BYTES } from '../../../../../functions/contract/routes.ts';
import {
  createCredentialsCache,
  createWebhookSecretsCache,
} from '../../../../../functions/core/app/credentials.ts';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import {
  matchingSecret,
  parseSignatureHeader,
  signatureOf,
} from '../../../../../functions/core/domain/webhook-signature.ts';
import { createAffixSandbox } from '../../../../../local/affix-sandbox.ts';
import { CLIENT_ID, ETAG_KEY, SECRET_A, SECRET_B } from '../../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { chainOverFetch } from '../../../../support/chain-over-fetch.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../../../../support/events.ts';
import { createInMemoryWriteLock } from '../../../../support/in-memory-write-lock.ts';
import { findLeaks } from '../../../../support/leaks.ts';

const output = captureOutput();
const answers: string[] = [];
const DELIVERY = JSON.stringify({ added: [{ id: 'e-1', first_name: 'Ada' }], removed: [], updated: [] });
const hex = (body: string | Uint8Array, secret: string) =>
  createHmac('sha256', secret).update(body).digest('hex');
const masked = (secret: string) => `****${secret.slice(-4)}`;

function harness(secrets: string[] = [SECRET_A], lockMode: 'broken' | 'free' = 'broken') {
  const affix = createAffixSandbox({
    client: {
      client_id: CLIENT_ID,
      client_secret: secrets,
      name: 'Test App',
      redirect_uris: ['https://app.example.com/callback'],
      webhook_uri: 'https://hooks.example.com/affix',
    },
  });
  const lock = createInMemoryWriteLock();
  // Broken by default, so writes would fail: verification must not take the write lock.
  lock.mode = lockMode;
  let clock = 1_000_000;
  const credentials = createCredentialsCache({
    maxAgeMs: 300_000,
    load: async () => ({ clientId: CLIENT_ID, clientSecret: secrets[0] ?? SECRET_A, etagKey: ETAG_KEY }),
  });
  const handler = chainOverFetch({
    credentials,
    fetch: affix.fetch,
    writeLock: lock,
    webhookSecrets: { now: () => clock },
  });
  return {
    affix,
    lock,
    gets: () => affix.requests.filter((call) => call.method === 'GET').length,
    advance: (ms: number) => {
      clock += ms;
    },
    async verify(body: string, signature: string | undefined, extra: Partial<EventOptions> = {}) {
      const result: APIGatewayProxyResult = await handler(
        apiEvent({
          method: 'POST',
          path: '/webhooks/verify',
          rawBody: body,
          headers: signature === undefined ? {} : { 'X-Affix-Api-Signature': signature },
          ...extra,
        }),
        lambdaContext(),
      );
      answers.push(result.body, JSON.stringify(result.headers));
      return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
    },
  };
}

describe('POST /webhooks/verify', () => {
  it('a delivery signed with the current secret is valid, naming only its masked tail', async () => {
    const h = harness();
    const result = await h.verify(DELIVERY, hex(DELIVERY, SECRET_A));
    expect(result.statusCode).toBe(200);
    expect(result.json).toEqual({ valid: true, secret: masked(SECRET_A) });
    expect(result.headers?.['cache-control']).toBe('no-store');
    expect(h.lock.held).toBe(false);
  });

  it('during a rotation both the secret rotated in and the one rotated out are valid', async () => {
    const h = harness([SECRET_A, SECRET_B]);
    const outgoing = await h.verify(DELIVERY, hex(DELIVERY, SECRET_A));
    const incoming = await h.verify(DELIVERY, hex(DELIVERY, SECRET_B).toUpperCase());
    expect(outgoing.json).toEqual({ valid: true, secret: masked(SECRET_A) });
    expect(incoming.json).toEqual({ valid: true, secret: masked(SECRET_B) });
    // One GET of Affix for both: the list is cached.
    expect(h.gets()).toBe(1);
  });

  it.each([
    ['a tampered body', `${DELIVERY} `, hex(DELIVERY, SECRET_A)],
    ['a wrong signature', DELIVERY, hex(DELIVERY, 'some-other-secret-value')],
    ['an empty header', DELIVERY, ''],
    ['a blank header', DELIVERY, '   '],
    ['a non-hex header', DELIVERY, `${hex(DELIVERY, SECRET_A).slice(0, 63)}g`],
    ['a truncated digest', DELIVERY, hex(DELIVERY, SECRET_A).slice(0, 62)],
    ['a sha256= prefixed digest', DELIVERY, `sha256=${hex(DELIVERY, SECRET_A)}`],
    ['no header', DELIVERY, undefined],
  ])('%s: 422 signature-mismatch', async (_name, body, signature) => {
    const h = harness();
    const result = await h.verify(body, signature);
    expect(result.statusCode).toBe(422);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(result.json).toMatchObject({
      type: 'urn:affix-webhook-config:problem:signature-mismatch',
      status: 422,
    });
  });

  it('a base64 (binary) body is verified as the bytes it encodes', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, ...Buffer.from(DELIVERY)]);
    const h = harness();
    const valid = await h.verify(bytes.toString('base64'), hex(bytes, SECRET_A), { isBase64Encoded: true });
    expect(valid.json).toEqual({ valid: true, secret: masked(SECRET_A) });
    // The base64 text itself is not what was signed.
    const asText = await h.verify(bytes.toString('base64'), hex(bytes, SECRET_A));
    expect(asText.statusCode).toBe(422);
  });

  it('a gzip-encoded delivery is verified as its decompressed bytes; bombs, corrupt gzip and other codings refused', async () => {
    const h = harness();
    const big = JSON.stringify({ added: Array.from({ length: 50_000 }, (_, i) => ({ id: `e-${i}` })) });
    const gzipped = (text: string) => gzipSync(text).toString('base64');
    const gz = { isBase64Encoded: true, omitContentType: true };
    const valid = await h.verify(gzipped(big), hex(big, SECRET_A), {
      ...gz,
      headers: { 'Content-Encoding': 'gzip', 'x-affix-api-signature': hex(big, SECRET_A) },
    });
    expect(valid.json).toEqual({ valid: true, secret: masked(SECRET_A) });
    // The signature is over the delivery, not over its compressed form.
    const compressed = gzipSync(big);
    const overCompressed = await h.verify(compressed.toString('base64'), undefined, {
      ...gz,
      headers: { 'content-encoding': 'gzip', 'x-affix-api-signature': hex(compressed, SECRET_A) },
    });
    expect(overCompressed.statusCode).toBe(422);
    const bomb = gzipSync(Buffer.alloc(WEBHOOK_MAX_BODY_BYTES + 1, 0x20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const bombed = await h.verify(bomb.toString('base64'), undefined, {
      ...gz,
      headers: { 'content-encoding': 'gzip', 'x-affix-api-signature': hex('x', SECRET_A) },
    });
    expect(bombed.json.type).toBe('urn:affix-webhook-config:problem:payload-too-large');
    const corrupt = await h.verify(Buffer.from('not gzip').toString('base64'), undefined, {
      ...gz,
      headers: { 'content-encoding': 'gzip', 'x-affix-api-signature': hex('x', SECRET_A) },
    });
    expect(corrupt.json.type).toBe('urn:affix-webhook-config:problem:validation-failed');
    const brotli = await h.verify(DELIVERY, undefined, {
      headers: { 'content-encoding': 'br', 'x-affix-api-signature': hex(DELIVERY, SECRET_A) },
    });
    expect(brotli.json.type).toBe('urn:affix-webhook-config:problem:unsupported-media-type');
  });

  it('any content type, or none, and a JSON-looking body is never parsed', async () => {
    const h = harness();
    const weird = '{"__proto__":{"x":1},'.repeat(3);
    const types: Record<string, string>[] = [
      { 'Content-Type': 'text/xml' },
      { 'Content-Type': 'application/json' },
      {},
    ];
    for (const headers of types) {
      const result = await h.verify(weird, undefined, {
        omitContentType: true,
        headers: { ...headers, 'x-affix-api-signature': hex(weird, SECRET_A) },
      });
      expect(result.json).toEqual({ valid: true, secret: masked(SECRET_A) });
    }
    const empty = await h.verify('', hex('', SECRET_A));
    expect(empty.json).toEqual({ valid: true, secret: masked(SECRET_A) });
  });

  it(`accepts ${WEBHOOK_MAX_BODY_BYTES} bytes and refuses one more with 413`, async () => {
    const h = harness();
    const big = 'a'.repeat(WEBHOOK_MAX_BODY_BYTES);
    expect((await h.verify(big, hex(big, SECRET_A))).json).toEqual({ valid: true, secret: masked(SECRET_A) });
    const over = `${big}a`;
    const refused = await h.verify(over, hex(over, SECRET_A));
    expect(refused.statusCode).toBe(413);
    expect(refused.json.type).toBe('urn:affix-webhook-config:problem:payload-too-large');
  });

  it('the JSON routes keep their 16 KiB limit', async () => {
    const h = harness();
    const handlerResult = await h.verify(JSON.stringify({ name: 'x'.repeat(17 * 1024) }), undefined, {
      method: 'PATCH',
      path: '/client',
    });
    expect(handlerResult.statusCode).toBe(413);
  });

  it('a secret added since the list was cached is found by one fresh read before refusing', async () => {
    const h = harness();
    await h.verify(DELIVERY, hex(DELIVERY, SECRET_A));
    h.affix.setClient({ ...h.affix.client, client_secret: [SECRET_A, SECRET_B] });
    h.advance(20_000);
    const result = await h.verify(DELIVERY, hex(DELIVERY, SECRET_B));
    expect(result.json).toEqual({ valid: true, secret: masked(SECRET_B) });
    expect(h.gets()).toBe(2);
  });

  it('bad signatures cannot spend Affix rate limit: no re-read while the list is younger than 15 s', async () => {
    const h = harness();
    await h.verify(DELIVERY, hex(DELIVERY, SECRET_A));
    for (let i = 0; i < 5; i += 1) {
      expect((await h.verify(DELIVERY, hex(DELIVERY, `forged-${i}-secret-value`))).statusCode).toBe(422);
    }
    expect(h.gets()).toBe(1);
    h.advance(14_000);
    expect((await h.verify(DELIVERY, hex(DELIVERY, 'forged-x-secret-value'))).statusCode).toBe(422);
    expect(h.gets()).toBe(1);
    h.advance(2_000);
    expect((await h.verify(DELIVERY, hex(DELIVERY, 'forged-y-secret-value'))).statusCode).toBe(422);
    expect(h.gets()).toBe(2);
    // After 60 s the list is read again anyway.
    h.advance(61_000);
    await h.verify(DELIVERY, hex(DELIVERY, SECRET_A));
    expect(h.gets()).toBe(3);
  });

  it('a secret added through this container verifies at once (its answer primes the list)', async () => {
    const h = harness([SECRET_A], 'free');
    await h.verify(DELIVERY, hex(DELIVERY, SECRET_A));
    const put = await h.verify(JSON.stringify({ client_secret: [SECRET_A, SECRET_B] }), undefined, {
      method: 'PUT',
      path: '/client/secrets',
    });
    expect(put.statusCode).toBe(200);
    const gets = h.gets();
    expect((await h.verify(DELIVERY, hex(DELIVERY, SECRET_B))).json).toEqual({
      valid: true,
      secret: masked(SECRET_B),
    });
    expect(h.gets()).toBe(gets);
  });

  it('a removed secret stops verifying once the list is read again', async () => {
    // The proxy authenticates with SECRET_B (the first); SECRET_A is rotated out.
    const h = harness([SECRET_B, SECRET_A]);
    expect((await h.verify(DELIVERY, hex(DELIVERY, SECRET_A))).statusCode).toBe(200);
    h.affix.setClient({ ...h.affix.client, client_secret: [SECRET_B] });
    h.advance(61_000);
    expect((await h.verify(DELIVERY, hex(DELIVERY, SECRET_A))).statusCode).toBe(422);
  });

  it('Affix failing is its problem, not a mismatch', async () => {
    const h = harness();
    h.affix.injectFault({ kind: 'status', status: 503, body: 'down', headers: {} }, { method: 'GET' });
    const result = await h.verify(DELIVERY, hex(DELIVERY, SECRET_A));
    expect(result.statusCode).toBe(502);
  });

  it('no secret, signature or body in any answer or log line', async () => {
    const h = harness([SECRET_A, SECRET_B]);
    const from = output.lines.length;
    const start = answers.length;
    const body = 'payload-canary-7c1e9a';
    await h.verify(body, hex(body, SECRET_A));
    await h.verify(body, hex(body, SECRET_B));
    await h.verify(`${body}x`, hex(body, SECRET_A));
    await h.verify(body, 'zz');
    const texts = [...answers.slice(start), ...output.lines.slice(from)];
    expect(findLeaks(texts, [SECRET_A, SECRET_B], CLIENT_ID)).toEqual([]);
    expect(texts.join('\n')).not.toContain(body);
    expect(texts.join('\n')).not.toContain(hex(body, SECRET_A));
  });
});

describe('the signature check (pure)', () => {
  it('parses 64 hex digits in either case, trimmed, and nothing else', () => {
    const digest = hex('x', 'k');
    expect(parseSignatureHeader(` ${digest.toUpperCase()} `)).toEqual({
      ok: true,
      digest: Buffer.from(digest, 'hex'),
    });
    expect(parseSignatureHeader(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(parseSignatureHeader('')).toEqual({ ok: false, reason: 'empty' });
    expect(parseSignatureHeader(`${digest}00`)).toEqual({ ok: false, reason: 'not-hex' });
  });

  it('finds the signing secret among several, whichever position it has', () => {
    const body = Buffer.from(DELIVERY);
    const list = ['first-secret-1111', 'second-secret-2222', 'third-secret-3333'];
    for (const secret of list) {
      expect(matchingSecret(body, signatureOf(body, secret), list)).toBe(secret);
    }
    expect(matchingSecret(body, signatureOf(body, 'nope'), list)).toBeUndefined();
    expect(matchingSecret(body, signatureOf(body, list[0] ?? ''), [])).toBeUndefined();
  });
});

describe('the secret list cache', () => {
  const call = () => ({ deadline: createDeadline(1_000) });

  it('shares one read between concurrent callers and does not cache a failure', async () => {
    let reads = 0;
    let fail = true;
    const cache = createWebhookSecretsCache({
      read: async () => {
        reads += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (fail) throw new Error('affix down');
        return ['s1'];
      },
    });
    await expect(Promise.all([cache.get(call()), cache.get(call())])).rejects.toThrow('affix down');
    expect(reads).toBe(1);
    fail = false;
    expect((await cache.get(call())).secrets).toEqual(['s1']);
    expect(reads).toBe(2);
  });
});
