/**
 * The input guards under the local stack (`npm start`'s: the real handler module, which reads
 * DESTINATION_POLICY from the environment `local/handler-env.ts` gives it, behind the SigV4 API):
 * destinations outside the local policy are 4xx problems and the Affix sandbox receives no POST; bytes
 * that are not UTF-8, a repeated key and an If-Match without quotes are 400s.
 */
import { AwsV4Signer } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AffixSandbox } from '../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { captureOutput } from '../support/capture.ts';

captureOutput();
let stack: LocalStack;

function sandbox(): AffixSandbox {
  if (stack.sandbox === undefined) throw new Error('the sandbox should run');
  return stack.sandbox;
}

/** A PATCH signed as a writer, its body sent as given (bytes that are not UTF-8 included). */
async function patch(body: string | Uint8Array, headers: Record<string, string> = {}) {
  const writer = LOCAL_IDENTITIES.writers;
  const signed = await new AwsV4Signer({
    url: `${stack.apiUrl}/client`,
    method: 'PATCH',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    accessKeyId: writer.accessKeyId,
    secretAccessKey: writer.secretAccessKey,
    sessionToken: writer.sessionToken,
    service: 'execute-api',
    region: 'us-east-1',
  }).sign();
  const response = await fetch(signed.url, { method: 'PATCH', headers: signed.headers, body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});

afterAll(async () => {
  await stack?.close();
});

describe('the guards under the local stack', () => {
  it.each([
    { webhook_uri: 'https://hooks.attacker.net/x' },
    { webhook_uri: 'https://169.254.169.254/latest/meta-data/' },
    { webhook_uri: 'https://example.com.attacker.net/h' },
    { webhook_uri: 'https://10.0.0.7/h' },
    { redirect_uris: ['https://app.attacker.net/cb'] },
  ])('refuses %j with 422 destination-not-allowed; the sandbox receives no POST', async (body) => {
    sandbox().resetRequests();
    const result = await patch(JSON.stringify(body));
    expect(result.status).toBe(422);
    expect(result.json.type).toBe('urn:affix-webhook-config:problem:destination-not-allowed');
    expect(sandbox().requests.filter((request) => request.method === 'POST')).toEqual([]);
  });

  it('applies https://hooks.example.com/allowed', async () => {
    sandbox().resetRequests();
    const result = await patch(JSON.stringify({ webhook_uri: 'https://hooks.example.com/allowed' }));
    expect(result.status).toBe(200);
    expect(sandbox().client.webhook_uri).toBe('https://hooks.example.com/allowed');
  });

  it('answers a body with the byte 0xff with 400', async () => {
    const bytes = new Uint8Array([...Buffer.from('{"name":"a'), 0xff, ...Buffer.from('"}')]);
    const result = await patch(bytes);
    expect(result.status).toBe(400);
    expect(result.json.type).toBe('urn:affix-webhook-config:problem:malformed-json');
  });

  it('answers a repeated key with 400', async () => {
    const result = await patch('{"webhook_uri":"http://evil","webhook_uri":"https://ok.example.com/"}');
    expect(result.status).toBe(400);
    expect(result.json.detail).toContain('"webhook_uri"');
  });

  it('answers If-Match: abc with 400 invalid-if-match', async () => {
    const result = await patch(JSON.stringify({ name: 'Renamed' }), { 'if-match': 'abc' });
    expect(result.status).toBe(400);
    expect(result.json.type).toBe('urn:affix-webhook-config:problem:invalid-if-match');
  });
});
