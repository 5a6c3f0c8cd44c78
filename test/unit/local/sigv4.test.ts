/**
 * The local API's SigV4 check alone: requests signed by aws4fetch (another signer than the verifier's
 * `@smithy/signature-v4`) with fixed credentials and a fixed date, verified with an injected `now`.
 */
import { AwsV4Signer } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import { LOCAL_IDENTITIES, LOCAL_SIGNERS, type LocalSigner, localSigner } from '../../../local/identities.ts';
import { MAX_CLOCK_SKEW_MS, type ReceivedRequest, verifySigV4 } from '../../../local/sigv4.ts';

const SIGNED_AT = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOST = '127.0.0.1:3000';
const READER = LOCAL_IDENTITIES.readers;
const WRITER = LOCAL_IDENTITIES.writers;

interface SignOptions {
  method?: string;
  target?: string;
  body?: string;
  headers?: Record<string, string>;
  region?: string;
  service?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** A request as the local API receives it, signed for `signer` at {@link SIGNED_AT}. */
async function signed(signer: LocalSigner, options: SignOptions = {}): Promise<ReceivedRequest> {
  const { method = 'GET', target = '/client', body = '', headers = {} } = options;
  const request = await new AwsV4Signer({
    url: `http://${HOST}${target}`,
    method,
    headers,
    body: body === '' ? undefined : body,
    accessKeyId: signer.accessKeyId,
    secretAccessKey: options.secretAccessKey ?? signer.secretAccessKey,
    ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
    service: options.service ?? 'execute-api',
    region: options.region ?? 'us-east-1',
    datetime: new Date(SIGNED_AT).toISOString().replace(/[:-]|\.\d{3}/g, ''),
    signQuery: false,
  }).sign();
  const rawHeaders = ['Host', HOST];
  request.headers.forEach((value, name) => {
    if (name !== 'host') rawHeaders.push(name, value);
  });
  return { method, target, rawHeaders, body: Buffer.from(body, 'utf8') };
}

/** The request with one header's value replaced (or added). */
function withHeader(request: ReceivedRequest, name: string, value: string): ReceivedRequest {
  const rawHeaders = [...request.rawHeaders];
  const at = rawHeaders.findIndex((entry, index) => index % 2 === 0 && entry.toLowerCase() === name);
  if (at === -1) rawHeaders.push(name, value);
  else rawHeaders[at + 1] = value;
  return { ...request, rawHeaders };
}

const verify = (request: ReceivedRequest, signers: readonly LocalSigner[] = LOCAL_SIGNERS, now = SIGNED_AT) =>
  verifySigV4(request, { signers, now });

describe('verifySigV4', () => {
  it('names the signer of a correctly signed request, with a body and a query', async () => {
    expect(await verify(await signed(READER))).toEqual({ ok: true, signer: READER });
    const patch = await signed(WRITER, {
      method: 'PATCH',
      target: '/client?b=2&a=1&a=%20x',
      body: '{"name":"Café"}',
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(await verify(patch)).toEqual({ ok: true, signer: WRITER });
  });

  it('answers MISSING_AUTHENTICATION_TOKEN without an Authorization header', async () => {
    const request = await signed(READER);
    const unsigned = {
      ...request,
      rawHeaders: request.rawHeaders.filter(
        (_, index, all) => all[index - (index % 2)]?.toLowerCase() !== 'authorization',
      ),
    };
    expect(await verify(unsigned)).toMatchObject({ ok: false, responseType: 'MISSING_AUTHENTICATION_TOKEN' });
    expect(await verify(withHeader(request, 'authorization', '  '))).toMatchObject({
      responseType: 'MISSING_AUTHENTICATION_TOKEN',
    });
  });

  it.each([
    ['another scheme', 'Basic abc'],
    [
      'a missing signature',
      'AWS4-HMAC-SHA256 Credential=local-reader/20260115/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date',
    ],
    [
      'a short credential',
      `AWS4-HMAC-SHA256 Credential=local-reader/20260115/us-east-1/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'a'.repeat(64)}`,
    ],
    [
      'a repeated parameter',
      `AWS4-HMAC-SHA256 Credential=local-reader/20260115/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'a'.repeat(64)}, Signature=${'b'.repeat(64)}`,
    ],
    [
      'upper-case signed headers',
      `AWS4-HMAC-SHA256 Credential=local-reader/20260115/us-east-1/execute-api/aws4_request, SignedHeaders=Host;x-amz-date, Signature=${'a'.repeat(64)}`,
    ],
  ])('answers INVALID_SIGNATURE for a malformed Authorization: %s', async (_, authorization) => {
    const request = withHeader(await signed(READER), 'authorization', authorization);
    expect(await verify(request)).toMatchObject({ ok: false, responseType: 'INVALID_SIGNATURE' });
  });

  it('refuses an unknown access key, another scope, or the wrong secret', async () => {
    const stranger = localSigner('readers', { name: 'stranger' });
    expect(await verify(await signed(stranger))).toMatchObject({
      ok: false,
      responseType: 'INVALID_SIGNATURE',
      reason: expect.stringContaining('UnrecognizedClientException'),
    });
    expect(await verify(await signed(READER, { region: 'eu-west-1' }))).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
    expect(await verify(await signed(READER, { service: 'lambda' }))).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
    expect(await verify(await signed(READER, { secretAccessKey: 'not-the-secret' }))).toEqual({
      ok: false,
      responseType: 'INVALID_SIGNATURE',
      reason: 'signature mismatch',
    });
  });

  it('refuses a request changed after signing: body, path, query, a signed header', async () => {
    const request = await signed(WRITER, {
      method: 'PATCH',
      body: '{"name":"a"}',
      headers: { 'content-type': 'application/json', 'x-custom': 'signed' },
    });
    expect(request.rawHeaders.join(' ')).toContain('SignedHeaders=host;x-amz-date;x-custom,');
    expect((await verify(request)).ok).toBe(true);
    expect(await verify({ ...request, body: Buffer.from('{"name":"b"}') })).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
    expect(await verify({ ...request, method: 'POST' })).toMatchObject({ responseType: 'INVALID_SIGNATURE' });
    expect(await verify({ ...request, target: '/client/secrets' })).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
    expect(await verify({ ...request, target: '/client?x=1' })).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
    expect(await verify(withHeader(request, 'x-custom', 'changed'))).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
    // aws4fetch leaves content-type unsigned: changing it is not the signature's business.
    expect((await verify(withHeader(request, 'content-type', 'text/plain'))).ok).toBe(true);
    expect(await verify(withHeader(request, 'host', 'localhost:3000'))).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
  });

  it('accepts x-amz-date up to 5 minutes either way of now, and answers EXPIRED_TOKEN past that', async () => {
    const request = await signed(READER);
    expect(MAX_CLOCK_SKEW_MS).toBe(300_000);
    expect((await verify(request, LOCAL_SIGNERS, SIGNED_AT + MAX_CLOCK_SKEW_MS)).ok).toBe(true);
    expect((await verify(request, LOCAL_SIGNERS, SIGNED_AT - MAX_CLOCK_SKEW_MS)).ok).toBe(true);
    expect(await verify(request, LOCAL_SIGNERS, SIGNED_AT + MAX_CLOCK_SKEW_MS + 1)).toMatchObject({
      responseType: 'EXPIRED_TOKEN',
    });
    expect(await verify(request, LOCAL_SIGNERS, SIGNED_AT - MAX_CLOCK_SKEW_MS - 1)).toMatchObject({
      responseType: 'EXPIRED_TOKEN',
    });
  });

  it('refuses an x-amz-date that is malformed or not the scope date', async () => {
    const request = await signed(READER);
    expect(await verify(withHeader(request, 'x-amz-date', '20260115T120000'))).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
    expect(await verify(withHeader(request, 'x-amz-date', '20260230T120000Z'))).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
    expect(
      await verify(
        withHeader(request, 'x-amz-date', '20260116T120000Z'),
        LOCAL_SIGNERS,
        Date.UTC(2026, 0, 16, 12),
      ),
    ).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
      reason: 'x-amz-date is not the scope date',
    });
  });

  it('refuses an x-amz-content-sha256 other than the hash of the body (UNSIGNED-PAYLOAD included)', async () => {
    const request = await signed(READER, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(await verify(request)).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
      reason: 'x-amz-content-sha256 is not the hash of the body',
    });
  });

  it('takes a session token only from a signer with one, and only that token', async () => {
    const session = localSigner('readers', { name: 'session-reader', sessionToken: 'the-token' });
    const signers = [...LOCAL_SIGNERS, session];
    expect(await verify(await signed(session, { sessionToken: 'the-token' }), signers)).toEqual({
      ok: true,
      signer: session,
    });
    expect(await verify(await signed(session), signers)).toMatchObject({ responseType: 'INVALID_SIGNATURE' });
    expect(await verify(await signed(session, { sessionToken: 'other-token' }), signers)).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
    });
    expect(await verify(await signed(READER, { sessionToken: 'any' }), signers)).toMatchObject({
      responseType: 'INVALID_SIGNATURE',
      reason: 'a session token from a signer without one',
    });
  });

  it('never puts a secret or the signature into its reason', async () => {
    const requests = [
      await signed(READER, { secretAccessKey: 'wrong-secret' }),
      await signed(READER, { region: 'eu-west-1' }),
      await signed(localSigner('readers', { name: 'stranger' })),
    ];
    for (const request of requests) {
      const outcome = await verify(request);
      const signature = /Signature=([0-9a-f]{64})/.exec(request.rawHeaders.join(' '))?.[1] as string;
      expect(outcome.ok).toBe(false);
      const reason = outcome.ok ? '' : outcome.reason;
      expect(reason).not.toContain(signature);
      for (const signer of LOCAL_SIGNERS) expect(reason).not.toContain(signer.secretAccessKey);
      expect(reason).not.toContain('wrong-secret');
    }
  });
});
