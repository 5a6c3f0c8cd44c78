/**
 * `verifyWebhook` of the typed client over real HTTP through the local API (SigV4 checked as API
 * Gateway does, the real handler, the Affix sandbox): only `local-verifier` may call it.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientConfigClient, createClientConfigClient } from '../../clients/index.ts';
import { WEBHOOK_MAX_BODY_BYTES } from '../../functions/contract/routes.ts';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES, type LocalSigner } from '../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { captureOutput } from '../support/capture.ts';
import { findLeaks } from '../support/leaks.ts';
import { signedFetch } from '../support/signed-fetch.ts';
import { failure } from './support/failure.ts';

const output = captureOutput();
const SECRET = SANDBOX_DEFAULTS.clientSecret[0] ?? '';
const sign = (body: string | Uint8Array, secret = SECRET) =>
  createHmac('sha256', secret).update(body).digest('hex');
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});
afterAll(async () => {
  await stack?.close();
});

const clientAs = (signer: LocalSigner): ClientConfigClient =>
  createClientConfigClient({
    baseUrl: stack.apiUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: signer.accessKeyId, secretAccessKey: signer.secretAccessKey },
    timeoutMs: 20_000,
  });

describe('verifyWebhook against the local stack', () => {
  it('local-verifier: a signed delivery is valid, a tampered one is signature-mismatch', async () => {
    const verifier = clientAs(LOCAL_IDENTITIES.verifiers);
    const body = JSON.stringify({ added: [], removed: [], updated: [{ id: 'e-1' }] });
    expect(await verifier.verifyWebhook(body, sign(body))).toEqual({
      valid: true,
      secret: `****${SECRET.slice(-4)}`,
    });
    const error = await failure(verifier.verifyWebhook(`${body}\n`, sign(body)));
    expect(error).toMatchObject({ slug: 'signature-mismatch', status: 422, retryable: false });
    expect((await failure(verifier.verifyWebhook(body, 'not-hex'))).slug).toBe('signature-mismatch');
  });

  it(`local-verifier: a ${WEBHOOK_MAX_BODY_BYTES}-byte delivery and a non-UTF-8 one are verified over HTTP`, async () => {
    const verifier = clientAs(LOCAL_IDENTITIES.verifiers);
    const items = '"x",'.repeat((WEBHOOK_MAX_BODY_BYTES - 64) / 4);
    const big = `{"added":[${items}"x"],"removed":[],"updated":[]}`.padEnd(WEBHOOK_MAX_BODY_BYTES, ' ');
    expect(Buffer.byteLength(big)).toBe(WEBHOOK_MAX_BODY_BYTES);
    // The typed client sends it gzip-compressed (octet-stream, base64 in the event) ...
    expect((await verifier.verifyWebhook(big, sign(big))).valid).toBe(true);
    // ... and as plain text, signed raw, it is verified too.
    const raw = await signedFetch(
      `${stack.apiUrl}/webhooks/verify`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-affix-api-signature': sign(big) },
        body: big,
      },
      LOCAL_IDENTITIES.verifiers,
    );
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual({ valid: true, secret: `****${SECRET.slice(-4)}` });
    const bytes = new Uint8Array([0xff, 0x00, 0xc3, 0x28, 0x7b]);
    expect((await verifier.verifyWebhook(bytes, sign(bytes))).valid).toBe(true);
    const over = `${big} `;
    expect((await failure(verifier.verifyWebhook(over, sign(over)))).slug).toBe('payload-too-large');
  }, 60_000);

  it('local-reader (and the other groups) get 403 access-denied; the verifier may not read the client', async () => {
    const body = '{"added":[],"removed":[],"updated":[]}';
    for (const signer of [LOCAL_IDENTITIES.readers, LOCAL_IDENTITIES.writers, LOCAL_IDENTITIES.rotators]) {
      const error = await failure(clientAs(signer).verifyWebhook(body, sign(body)));
      expect(error).toMatchObject({ slug: 'access-denied', status: 403 });
    }
    const error = await failure(clientAs(LOCAL_IDENTITIES.verifiers).getClient());
    expect(error).toMatchObject({ slug: 'access-denied', status: 403 });
  });

  it('no client secret in any log line of the stack', () => {
    expect(findLeaks(output.lines, [SECRET], SANDBOX_DEFAULTS.clientId)).toEqual([]);
  });
});
