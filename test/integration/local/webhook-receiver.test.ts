/**
 * The signed-webhook walk-through on the real stack, with no code of one's own: the writer PATCHes
 * `webhook_uri` to the built-in receiver through the proxy (the secret list is left alone), the
 * sandbox sends a signed delivery, and the receiver has the proxy verify it as `local-verifier` and
 * answers and reports the verdict. A delivery signed with something else is reported as a mismatch.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS, WEBHOOK_DELIVERY_PATH } from '../../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES } from '../../../local/identities.ts';
import { type LocalStack, receiverWebhookUri, startLocalStack } from '../../../local/start.ts';
import { signDelivery } from '../../../local/webhook-delivery.ts';
import type { WebhookVerdict } from '../../../local/webhook-receiver.ts';
import { signedFetch } from '../../support/signed-fetch.ts';

let stack: LocalStack;
const verdicts: WebhookVerdict[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    concurrency: 1,
    webhookReceiverPort: 0,
    onWebhookVerdict: (verdict) => verdicts.push(verdict),
  });
});
afterAll(async () => {
  await stack?.close();
});

it('PATCH webhook_uri to the receiver, trigger a delivery: the receiver verifies it as local-verifier', async () => {
  const receiver = stack.webhookReceiver;
  if (receiver === undefined) throw new Error('no receiver');
  expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks$/);
  const read = await signedFetch(`${stack.apiUrl}/client`, {}, LOCAL_IDENTITIES.readers);
  const etag = read.headers.get('etag') ?? '';
  const patched = await signedFetch(
    `${stack.apiUrl}/client`,
    {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'if-match': etag },
      body: JSON.stringify({ webhook_uri: receiverWebhookUri(receiver) }),
    },
    LOCAL_IDENTITIES.writers,
  );
  expect(patched.status).toBe(200);
  expect(stack.sandbox?.client.client_secret).toEqual([...SANDBOX_DEFAULTS.clientSecret]);

  const payload = '{"added":[{"id":"e-1"}],"removed":[],"updated":[]}';
  const delivered = await fetch(`${stack.affixBaseUrl}${WEBHOOK_DELIVERY_PATH}`, {
    method: 'POST',
    body: payload,
  });
  expect(delivered.status).toBe(200);
  const answer = (await delivered.json()) as { valid: boolean; outcome: string; secret: string };
  expect(answer).toEqual({
    valid: true,
    outcome: 'valid',
    secret: `****${SANDBOX_DEFAULTS.clientSecret[0].slice(-4)}`,
  });
  expect(verdicts).toEqual([{ status: 200, outcome: 'valid', secret: answer.secret, bytes: payload.length }]);
});

it('a delivery signed with another key is a signature-mismatch, answered and reported as such', async () => {
  const receiver = stack.webhookReceiver;
  if (receiver === undefined) throw new Error('no receiver');
  const body = '{"added":[],"removed":[],"updated":[]}';
  const answer = await fetch(receiver.url, {
    method: 'POST',
    headers: { 'x-affix-api-signature': signDelivery(Buffer.from(body), 'not-the-client-secret-000') },
    body,
  });
  expect(answer.status).toBe(422);
  expect(await answer.json()).toEqual({ valid: false, outcome: 'signature-mismatch' });
  expect(verdicts.at(-1)).toEqual({
    status: 422,
    outcome: 'signature-mismatch',
    secret: undefined,
    bytes: body.length,
  });
});

it('answers 404 off its path and 405 for other methods, verifying nothing', async () => {
  const receiver = stack.webhookReceiver;
  if (receiver === undefined) throw new Error('no receiver');
  const count = verdicts.length;
  expect((await fetch(receiver.url.replace('/webhooks', '/elsewhere'), { method: 'POST' })).status).toBe(404);
  const get = await fetch(receiver.url);
  expect(get.status).toBe(405);
  expect(get.headers.get('allow')).toBe('POST');
  expect(verdicts).toHaveLength(count);
});
