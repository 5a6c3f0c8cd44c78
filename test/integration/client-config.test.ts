/**
 * Integration over real HTTP on 127.0.0.1: the real handler module (config from env, the real AWS SDK
 * SSM client resolving AWS_ENDPOINT_URL_SSM to the local SSM endpoint) behind the local API, talking
 * to the Affix sandbox. Every response and log line of these scenarios is checked for secrets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { DEFAULT_CLIENT_SECRET_PARAMETER } from '../../local/handler-env.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { captureOutput } from '../support/capture.ts';
import { signedFetch } from '../support/signed-fetch.ts';

const output = captureOutput();
const bodies: string[] = [];
const OLD_SECRET = SANDBOX_DEFAULTS.clientSecret[0];
const NEW_SECRET = 'rotated-secret-0123456789abcdef';
let stack: LocalStack;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await signedFetch(`${stack.apiUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  bodies.push(JSON.stringify([...response.headers]), text);
  return {
    status: response.status,
    headers: response.headers,
    json: JSON.parse(text) as Record<string, unknown>,
  };
}

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});

afterAll(async () => {
  await stack?.close();
});

describe('the proxy over real HTTP', () => {
  it('reads the client with one SSM request for many invocations', async () => {
    stack.ssm.resetRequests();
    for (let i = 0; i < 5; i += 1) {
      const result = await call('GET', '/client');
      expect(result.status).toBe(200);
      expect(result.json.client_secret).toEqual([`****${OLD_SECRET.slice(-4)}`]);
      expect(result.headers.get('etag')).toMatch(/^"/);
    }
    expect(stack.ssm.requests.map((request) => request.target)).toEqual(['AmazonSSM.GetParameters']);
    expect(stack.ssm.requests[0]).toMatchObject({ withDecryption: true });
  });

  it('changes only webhook_uri: the secrets and redirect URIs stay as they were', async () => {
    const sandbox = stack.sandbox;
    if (sandbox === undefined) throw new Error('the sandbox should run');
    const before = sandbox.client;
    sandbox.resetRequests();
    const result = await call('PATCH', '/client', { webhook_uri: 'https://hooks.example.com/only-this' });
    expect(result.status).toBe(200);
    const after = sandbox.client;
    expect(after).toEqual({ ...before, webhook_uri: 'https://hooks.example.com/only-this' });
    expect(sandbox.requests.map((request) => request.method)).toEqual(['GET', 'POST']);
    expect(sandbox.requests[1]?.body).toMatchObject({
      client_secret: before.client_secret,
      redirect_uris: before.redirect_uris,
      name: before.name,
    });
  });

  it('enforces If-Match against the live client', async () => {
    const first = await call('GET', '/client');
    const etag = first.headers.get('etag') ?? '';
    expect((await call('PATCH', '/client', { name: 'Renamed once' }, { 'if-match': etag })).status).toBe(200);
    const stale = await call('PATCH', '/client', { name: 'Renamed twice' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toBe('application/problem+json');
    expect(stack.sandbox?.client.name).toBe('Renamed once');
  });

  it('rotates a secret: add, update SSM, remove; then picks up a changed secret on 401 without a redeploy', async () => {
    const sandbox = stack.sandbox;
    if (sandbox === undefined) throw new Error('the sandbox should run');
    // 1. Add the new secret next to the current one.
    expect((await call('PUT', '/client/secrets', { client_secret: [OLD_SECRET, NEW_SECRET] })).status).toBe(
      200,
    );
    // Removing the secret the proxy uses is refused while SSM still holds it.
    expect((await call('PUT', '/client/secrets', { client_secret: [NEW_SECRET] })).status).toBe(409);
    // 2. Update SSM. 3. Remove the old secret: the guard looks at SSM again and allows it.
    stack.ssm.setParameter(DEFAULT_CLIENT_SECRET_PARAMETER, NEW_SECRET, 'SecureString');
    const removed = await call('PUT', '/client/secrets', { client_secret: [NEW_SECRET] });
    expect(removed.status).toBe(200);
    expect(sandbox.client.client_secret).toEqual([NEW_SECRET]);

    // Someone else rotates in Affix and SSM directly; the proxy's cache is now stale.
    const THIRD = 'third-secret-fedcba9876543210';
    sandbox.setClient({ ...sandbox.client, client_secret: [THIRD] });
    stack.ssm.setParameter(DEFAULT_CLIENT_SECRET_PARAMETER, THIRD, 'SecureString');
    stack.ssm.resetRequests();
    sandbox.resetRequests();
    // no-cache: the shared read cache holds the last PUT's view; this read must reach Affix.
    const afterRotation = await call('GET', '/client', undefined, { 'cache-control': 'no-cache' });
    expect(afterRotation.status).toBe(200);
    expect(sandbox.requests.map((request) => request.authorized)).toEqual([false, true]); // 401, then retried
    expect(stack.ssm.requestCount).toBe(1); // one refresh
  });

  it('emits the outcome metric with the service and STAGE dimensions the alarms watch', async () => {
    const first = output.lines.length;
    expect((await call('GET', '/client')).status).toBe(200);
    const emf = output.lines
      .slice(first)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.RequestOutcome !== undefined);
    expect(emf).toMatchObject({
      service: 'affix-webhook-config',
      stage: 'local',
      outcome: 'success',
      RequestOutcome: 1,
    });
  });

  it('answers problem+json for errors over the wire', async () => {
    const badJson = await signedFetch(`${stack.apiUrl}/client`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { type: string }).type).toMatch(/malformed-json$/);
    // An unknown route is API Gateway's own answer, signed or not (the function's 404 is unreachable).
    const notFound = await call('GET', '/nothing');
    expect(notFound.status).toBe(403);
    expect(notFound.headers.get('content-type')).toBe('application/problem+json');
    expect(notFound.json.type).toMatch(/missing-signature$/);
  });
});

afterAll(() => {
  const secrets = [OLD_SECRET, NEW_SECRET, 'third-secret-fedcba9876543210'];
  const forbidden = secrets.flatMap((secret) => [
    secret,
    Buffer.from(secret).toString('base64'),
    Buffer.from(`${SANDBOX_DEFAULTS.clientId}:${secret}`).toString('base64'),
  ]);
  const haystack = [...bodies, ...output.lines].join('\n');
  expect(output.lines.some((line) => line.includes('"message":"audit"'))).toBe(true);
  for (const needle of forbidden) expect(haystack).not.toContain(needle);
});
