/**
 * End to end on one machine: the sandbox delivers a signed webhook to a receiver on 127.0.0.1, which
 * holds no secret and asks `POST /webhooks/verify` (as `local-verifier`, through the local API) whether
 * the delivery is genuine.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientConfigError, createClientConfigClient } from '../../clients/index.ts';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { signDelivery, WEBHOOK_DELIVERY_PATH } from '../../local/webhook-delivery.ts';
import { captureOutput } from '../support/capture.ts';
import { findLeaks } from '../support/leaks.ts';
import { whileLockBusy } from '../support/lock-busy.ts';

const output = captureOutput();
const ROTATED_IN = 'sandbox-secret-eeeeeeeeeeeeeeee';
let stack: LocalStack;
let receiver: Server;
let receiverUrl: string;
/** What the receiver saw of each delivery. */
const seen: { headers: IncomingMessage['headers']; body: Buffer; verdict: string }[] = [];

function sandbox() {
  if (stack.sandbox === undefined) throw new Error('no sandbox');
  return stack.sandbox;
}

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
  const verifier = createClientConfigClient({
    baseUrl: stack.apiUrl,
    region: 'us-east-1',
    credentials: {
      accessKeyId: LOCAL_IDENTITIES.verifiers.accessKeyId,
      secretAccessKey: LOCAL_IDENTITIES.verifiers.secretAccessKey,
    },
  });
  // The receiver: exact bytes and the signature header forwarded, the verdict answered back.
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    let verdict: string;
    try {
      const result = await verifier.verifyWebhook(body, String(req.headers['x-affix-api-signature'] ?? ''));
      verdict = `valid ${result.secret}`;
    } catch (error) {
      verdict = error instanceof ClientConfigError ? error.slug : 'error';
    }
    seen.push({ headers: req.headers, body, verdict });
    res.writeHead(verdict.startsWith('valid') ? 200 : 401, { 'content-type': 'text/plain' });
    res.end(verdict);
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/affix-hook`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  await stack?.close();
});

const deliver = (body?: string, query = '') =>
  fetch(`${sandbox().url}${WEBHOOK_DELIVERY_PATH}${query}`, { method: 'POST', body });

describe('POST /_sandbox/webhooks', () => {
  it('delivers the default payload signed with the first secret, with the headers Affix sends; the receiver finds it valid', async () => {
    sandbox().setClient({ ...sandbox().client, webhook_uri: receiverUrl });
    const res = await deliver();
    expect(res.status).toBe(200);
    const first = SANDBOX_DEFAULTS.clientSecret[0] ?? '';
    expect(await res.text()).toBe(`valid ****${first.slice(-4)}`);
    const delivery = seen.at(-1);
    expect(delivery?.body.toString()).toBe('{"added":[],"removed":[],"updated":[]}');
    expect(delivery?.headers).toMatchObject({
      'x-affix-api-origin': 'webhooks-employees-webhook',
      'user-agent': 'affixapi.com',
      'x-affix-api-signature': signDelivery(delivery?.body ?? Buffer.alloc(0), first),
    });
  });

  it('signs the exact payload bytes with the secret chosen by index (a secret rotated in through the proxy)', async () => {
    const rotator = createClientConfigClient({
      baseUrl: stack.apiUrl,
      region: 'us-east-1',
      credentials: {
        accessKeyId: LOCAL_IDENTITIES.rotators.accessKeyId,
        secretAccessKey: LOCAL_IDENTITIES.rotators.secretAccessKey,
      },
    });
    await whileLockBusy(() => rotator.replaceSecrets([SANDBOX_DEFAULTS.clientSecret[0] ?? '', ROTATED_IN]));
    sandbox().setClient({ ...sandbox().client, webhook_uri: receiverUrl });
    const payload = '{ "added": [ {"id": "e-1", "name": "Zoë"} ], "removed": [], "updated": [] }';
    const res = await deliver(payload, '?secret=1');
    expect(await res.text()).toBe(`valid ****${ROTATED_IN.slice(-4)}`);
    expect(seen.at(-1)?.body.toString()).toBe(payload);
    // The secret rotated out (the first) is still valid while Affix lists both.
    expect(await (await deliver(payload, '?secret=0')).text()).toMatch(/^valid /);
  });

  it('a delivery signed with a secret Affix does not list is a mismatch at the receiver', async () => {
    const res = await fetch(receiverUrl, {
      method: 'POST',
      headers: {
        'x-affix-api-signature': signDelivery(Buffer.from('{}'), 'sandbox-secret-ffffffffffffffff'),
      },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('signature-mismatch');
  });

  it('refuses a non-loopback webhook_uri, a bad secret index and a non-JSON payload, sending nothing', async () => {
    const before = seen.length;
    sandbox().setClient({ ...sandbox().client, webhook_uri: 'https://hooks.example.com/affix' });
    expect((await deliver()).status).toBe(409);
    sandbox().setClient({ ...sandbox().client, webhook_uri: receiverUrl });
    expect((await deliver(undefined, '?secret=9')).status).toBe(400);
    expect((await deliver(undefined, '?secret=-1')).status).toBe(400);
    expect((await deliver('not json')).status).toBe(400);
    expect(seen.length).toBe(before);
  });

  it('no client secret in any log line', () => {
    expect(
      findLeaks(output.lines, [...SANDBOX_DEFAULTS.clientSecret, ROTATED_IN], SANDBOX_DEFAULTS.clientId),
    ).toEqual([]);
  });
});
