import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AffixClientState,
  type AffixSandbox,
  basicAuthHeader,
  CLIENT_PATH,
  parseSandboxLatency,
  SANDBOX_DEFAULTS,
  startAffixSandbox,
} from '../../local/affix-sandbox.ts';

const ID = SANDBOX_DEFAULTS.clientId;
const SECRET = SANDBOX_DEFAULTS.clientSecret[0];
const AUTH = basicAuthHeader(ID, SECRET);

const validBody = {
  client_secret: [SECRET],
  redirect_uris: ['https://app.example.com/callback'],
  name: 'Renamed App',
  webhook_uri: 'https://hooks.example.com/v2',
};

let sandbox: AffixSandbox;

beforeEach(async () => {
  sandbox = await startAffixSandbox({ port: 0 });
});
afterEach(async () => {
  await sandbox.close();
});

/** `auth: null` sends no Authorization header. */
function get(auth: string | null = AUTH, init: RequestInit = {}): Promise<Response> {
  return fetch(`${sandbox.url}${CLIENT_PATH}`, {
    ...init,
    headers: auth === null ? {} : { authorization: auth },
  });
}

function post(body: unknown, auth: string = AUTH, contentType = 'application/json'): Promise<Response> {
  return fetch(`${sandbox.url}${CLIENT_PATH}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('affix sandbox: auth and GET', () => {
  it('listens on 127.0.0.1 with an ephemeral port and serves the seeded client', async () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.port).toBeGreaterThan(0);
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      client_id: 'sandbox-client-0001',
      client_secret: ['sandbox-secret-aaaaaaaaaaaaaaaa'],
      name: 'Sandbox App',
      redirect_uris: ['https://app.example.com/callback'],
      webhook_uri: 'https://hooks.example.com/affix',
    });
  });

  it('builds Basic base64(id:secret)', () => {
    expect(basicAuthHeader('demo', 'p@55w0rd')).toBe('Basic ZGVtbzpwQDU1dzByZA==');
  });

  it.each([
    ['missing', null],
    ['wrong secret', basicAuthHeader(ID, 'nope')],
    ['wrong client id', basicAuthHeader('other-client', SECRET)],
    ['bare secret', SECRET],
    ['bearer', `Bearer ${SECRET}`],
    ['empty secret', basicAuthHeader(ID, '')],
  ])('answers 401 with the spec body when the Authorization header is %s', async (_label, auth) => {
    const res = await get(auth);
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error).toBe('authentication_error');
    expect(body.code).toBe('incorrect_username_or_password');
    expect(typeof body.message).toBe('string');
    expect(sandbox.requests.at(-1)?.authorized).toBe(false);
  });

  it('accepts any of the current secrets (a client can have several)', async () => {
    sandbox.setClient({ ...sandbox.client, client_secret: ['first-secret', 'second:secret'] });
    expect((await get(basicAuthHeader(ID, 'first-secret'))).status).toBe(200);
    expect((await get(basicAuthHeader(ID, 'second:secret'))).status).toBe(200);
    expect((await get(AUTH)).status).toBe(401);
  });

  it('logs requests without the Authorization value', async () => {
    await get();
    await get(basicAuthHeader(ID, 'wrong'));
    expect(sandbox.requests.map((r) => [r.method, r.path, r.authorized])).toEqual([
      ['GET', CLIENT_PATH, true],
      ['GET', CLIENT_PATH, false],
    ]);
    const logged = JSON.stringify(sandbox.requests);
    expect(logged).not.toContain(AUTH.slice('Basic '.length));
    expect(logged).not.toContain(SECRET);
    sandbox.resetRequests();
    expect(sandbox.requests).toHaveLength(0);
  });

  it('omits webhook_uri when the state has none, and returns deep copies', async () => {
    const { webhook_uri: _dropped, ...withoutWebhook } = sandbox.client;
    sandbox.setClient(withoutWebhook);
    const body = (await (await get()).json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('webhook_uri');
    const copy = sandbox.client;
    copy.client_secret.push('sneaky');
    expect(sandbox.client.client_secret).toEqual([SECRET]);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const notFound = await fetch(`${sandbox.url}/2023-03-01/management/tokens`, {
      headers: { authorization: AUTH },
    });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toHaveProperty('message');
    const wrongMethod = await fetch(`${sandbox.url}${CLIENT_PATH}`, {
      method: 'PUT',
      headers: { authorization: AUTH },
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
  });
});

describe('affix sandbox: POST replaces the client', () => {
  it('replaces every field, keeps client_id, drops unknown keys, logs the body', async () => {
    const res = await post({ ...validBody, extra: 'ignored' });
    expect(res.status).toBe(200);
    const expected: AffixClientState = { client_id: ID, ...validBody };
    expect(await res.json()).toEqual(expected);
    expect(sandbox.client).toEqual(expected);
    expect(sandbox.requests.at(-1)).toMatchObject({
      method: 'POST',
      authorized: true,
      body: { name: 'Renamed App' },
    });
  });

  it('clears webhook_uri when it is left out or null (replace, not merge)', async () => {
    const { webhook_uri: _omit, ...withoutWebhook } = validBody;
    expect(await (await post(withoutWebhook)).json()).toMatchObject({ webhook_uri: null });
    expect(sandbox.client.webhook_uri).toBeNull();
    await post(validBody);
    await post({ ...validBody, webhook_uri: null });
    expect(sandbox.client.webhook_uri).toBeNull();
  });

  it('rotation: the new secret list is what authenticates afterwards', async () => {
    const newSecret = 'sandbox-secret-bbbbbbbbbbbbbbbb';
    expect((await post({ ...validBody, client_secret: [SECRET, newSecret] })).status).toBe(200);
    expect((await get(basicAuthHeader(ID, newSecret))).status).toBe(200);
    expect((await get(AUTH)).status).toBe(200);

    expect(
      (await post({ ...validBody, client_secret: [newSecret] }, basicAuthHeader(ID, newSecret))).status,
    ).toBe(200);
    expect((await get(AUTH)).status).toBe(401);
    expect((await get(basicAuthHeader(ID, newSecret))).status).toBe(200);
  });

  it.each([
    ['missing client_secret', { redirect_uris: [], name: 'x' }, 'client_secret'],
    ['client_secret not an array', { ...validBody, client_secret: 'abc' }, 'client_secret'],
    ['client_secret with a number', { ...validBody, client_secret: ['a', 1] }, 'client_secret'],
    ['missing redirect_uris', { client_secret: [SECRET], name: 'x' }, 'redirect_uris'],
    ['missing name', { client_secret: [SECRET], redirect_uris: [] }, 'name'],
    ['webhook_uri a number', { ...validBody, webhook_uri: 42 }, 'webhook_uri'],
    ['an array body', [validBody], 'object'],
  ])('answers 400 for %s and leaves the client alone', async (_label, body, mention) => {
    const before = sandbox.client;
    const res = await post(body);
    expect(res.status).toBe(400);
    const payload = (await res.json()) as { message: string; validation_error: string };
    expect(typeof payload.message).toBe('string');
    expect(payload.validation_error).toContain(mention);
    expect(sandbox.client).toEqual(before);
  });

  it('answers 400 for malformed JSON, an empty body and a non-JSON content type', async () => {
    expect((await post('{"name":')).status).toBe(400);
    expect((await post('')).status).toBe(400);
    const textPlain = await post(validBody, AUTH, 'text/plain');
    expect(textPlain.status).toBe(400);
    expect(((await textPlain.json()) as { validation_error: string }).validation_error).toContain(
      'content-type',
    );
    expect((await post(validBody, AUTH, 'application/json; charset=utf-8')).status).toBe(200);
  });

  it('checks auth before the body', async () => {
    const res = await post({ nonsense: true }, basicAuthHeader(ID, 'wrong'));
    expect(res.status).toBe(401);
  });
});

describe('affix sandbox: faults', () => {
  it('status faults apply to the next matching requests only, then normal behaviour resumes', async () => {
    sandbox.injectFault({ kind: 'status', status: 503 }, { times: 2 });
    expect((await get()).status).toBe(503);
    expect((await get()).status).toBe(503);
    expect((await get()).status).toBe(200);
  });

  it('faults queue in order and can be limited to one method', async () => {
    sandbox.injectFault({ kind: 'status', status: 409 }, { method: 'POST' });
    sandbox.injectFault({ kind: 'status', status: 500 });
    // GET skips the POST-only fault and takes the next one.
    expect((await get()).status).toBe(500);
    const conflict = await post(validBody);
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toEqual({ error: 'conflict' });
    expect(sandbox.client.name).toBe('Sandbox App');
    expect((await post(validBody)).status).toBe(200);
  });

  it('429 carries Retry-After by default; custom headers and bodies replace the defaults', async () => {
    sandbox.injectFault({ kind: 'status', status: 429 });
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toHaveProperty('message');

    sandbox.injectFault({
      kind: 'status',
      status: 429,
      headers: { 'Retry-After': '7' },
      body: { message: 'slow down' },
    });
    const custom = await get();
    expect(custom.headers.get('retry-after')).toBe('7');
    expect(await custom.json()).toEqual({ message: 'slow down' });

    sandbox.injectFault({ kind: 'status', status: 401 });
    expect(await (await get()).json()).toMatchObject({ error: 'authentication_error' });
  });

  it('clearFaults drops queued faults', async () => {
    sandbox.injectFault({ kind: 'status', status: 500 }, { times: 5 });
    sandbox.clearFaults();
    expect((await get()).status).toBe(200);
  });

  it('rejects a non-positive times', () => {
    expect(() => sandbox.injectFault({ kind: 'reset' }, { times: 0 })).toThrow(RangeError);
  });

  it('hang-before-headers never answers', async () => {
    sandbox.injectFault({ kind: 'hang-before-headers' });
    await expect(get(AUTH, { signal: AbortSignal.timeout(200) })).rejects.toThrow(/abort|timeout/i);
    expect(sandbox.requests).toHaveLength(1);
  });

  it('hang-mid-body sends headers and part of the body, then stalls', async () => {
    sandbox.injectFault({ kind: 'hang-mid-body' });
    const res = await get(AUTH, { signal: AbortSignal.timeout(300) });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
    await expect(res.text()).rejects.toThrow(/abort|timeout/i);
  });

  it('reset destroys the connection without an answer', async () => {
    sandbox.injectFault({ kind: 'reset' });
    await expect(get()).rejects.toThrow(TypeError);
    expect((await get()).status).toBe(200);
  });

  it('non-json answers 200 text/html', async () => {
    sandbox.injectFault({ kind: 'non-json' });
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html');
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  it('wrong-shape answers 200 JSON without the required fields', async () => {
    sandbox.injectFault({ kind: 'wrong-shape' });
    const body = (await (await get()).json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('client_secret');
    expect(body).not.toHaveProperty('redirect_uris');
  });

  it('huge-body streams the requested number of bytes in chunks (chunked unless asked otherwise)', async () => {
    const bytes = 5 * 1024 * 1024;
    sandbox.injectFault({ kind: 'huge-body', bytes });
    const res = await get();
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('content-length')).toBeNull();
    let total = 0;
    let chunks = 0;
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      chunks += 1;
    }
    expect(total).toBe(bytes);
    expect(chunks).toBeGreaterThan(1);

    sandbox.injectFault({ kind: 'huge-body', bytes: 200_000, contentLength: true });
    const sized = await get();
    expect(sized.headers.get('content-length')).toBe('200000');
    expect(JSON.parse(await sized.text())).toHaveProperty('padding');
  });

  it('huge-body tolerates the client aborting, and keeps serving', async () => {
    sandbox.injectFault({ kind: 'huge-body', bytes: 50 * 1024 * 1024 });
    const controller = new AbortController();
    const res = await get(AUTH, { signal: controller.signal });
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no body');
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toThrow();
    expect((await get()).status).toBe(200);
  });

  it('delay answers normally (the delay itself: test/unit/local/affix-sandbox.test.ts, on fake timers)', async () => {
    sandbox.injectFault({ kind: 'delay', ms: 150 });
    const res = await get();
    expect(res.status).toBe(200);
  });

  it('close() returns promptly while sockets hang', async () => {
    sandbox.injectFault({ kind: 'hang-before-headers' });
    sandbox.injectFault({ kind: 'hang-mid-body' });
    const hanging = get().catch((error: unknown) => error);
    const midBody = get()
      .then((res) => res.text())
      .catch((error: unknown) => error);
    // Both have arrived (and hang) before close(); the test's timeout bounds the wait.
    while (sandbox.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sandbox.requests).toHaveLength(2);
    // Resolves although both sockets hang (a close() that waited for them would time the test out).
    await sandbox.close();
    expect(await hanging).toBeInstanceOf(Error);
    expect(await midBody).toBeInstanceOf(Error);
  });
});

describe('affix sandbox: options', () => {
  it('client seeds the state, with a latency (the delay itself: test/unit/local/affix-sandbox.test.ts)', async () => {
    const slow = await startAffixSandbox({
      port: 0,
      latencyMs: 120,
      client: { client_id: 'c1', client_secret: ['s1'], name: 'n', redirect_uris: [], webhook_uri: null },
    });
    try {
      const res = await fetch(`${slow.url}${CLIENT_PATH}`, {
        headers: { authorization: basicAuthHeader('c1', 's1') },
      });
      expect(await res.json()).toMatchObject({ client_id: 'c1', webhook_uri: null });
    } finally {
      await slow.close();
    }
  });
});

describe('affix sandbox: fields the proxy does not model', () => {
  const extraFields = {
    logo_uri: 'https://cdn.example.com/logo.png',
    settings: { theme: 'dark', scopes: ['employees', 'payroll'], limits: { rpm: 40 } },
    created_at: '2024-01-02T03:04:05Z',
  };

  it('GET returns the seeded extra fields beside the modelled ones', async () => {
    const seeded = await startAffixSandbox({ port: 0, extraFields });
    try {
      const res = await fetch(`${seeded.url}${CLIENT_PATH}`, { headers: { authorization: AUTH } });
      expect(await res.json()).toEqual({ ...sandbox.client, ...extraFields });
      expect(seeded.extraFields).toEqual(extraFields);
    } finally {
      await seeded.close();
    }
  });

  it('a POST that sends them back keeps them exactly as sent; one that leaves them out erases them', async () => {
    sandbox.setExtraFields(extraFields);
    const keep = await post({ ...validBody, ...extraFields });
    expect(await keep.json()).toEqual({ client_id: ID, ...validBody, ...extraFields });
    expect(sandbox.extraFields).toEqual(extraFields);

    // Replace semantics: the POST below omits logo_uri and settings, so Affix no longer has them.
    const partial = await post({ ...validBody, created_at: extraFields.created_at });
    expect(await partial.json()).toEqual({ client_id: ID, ...validBody, created_at: extraFields.created_at });
    expect(sandbox.extraFields).toEqual({ created_at: extraFields.created_at });
    expect(await (await get()).json()).not.toHaveProperty('settings');

    // The names stay in the schema: a later POST can set them again, with any JSON value.
    await post({ ...validBody, settings: { theme: 'light' } });
    expect(sandbox.extraFields).toEqual({ settings: { theme: 'light' } });
  });

  it('keys outside the schema are dropped, and copies are deep', async () => {
    sandbox.setExtraFields({ settings: { theme: 'dark' } });
    await post({ ...validBody, settings: { theme: 'dark' }, not_in_schema: 1 });
    expect(await (await get()).json()).not.toHaveProperty('not_in_schema');
    const copy = sandbox.extraFields as { settings: { theme: string } };
    copy.settings.theme = 'changed';
    expect(sandbox.extraFields).toEqual({ settings: { theme: 'dark' } });
  });

  it('refuses an extra field named like a modelled one', async () => {
    expect(() => sandbox.setExtraFields({ name: 'x' })).toThrow(RangeError);
    await expect(startAffixSandbox({ port: 0, extraFields: { client_secret: [] } })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('AFFIX_SANDBOX_LATENCY_MS', () => {
  it.each([
    [undefined, 0],
    ['', 0],
    ['0', 0],
    ['50', 50],
    ['10000', 10_000],
    // The one integer-from-env rule (local/env-integer.ts) trims, as the function's variables do.
    [' 5', 5],
  ])('%j gives %i ms', (raw, expected) => {
    expect(parseSandboxLatency(raw)).toBe(expected);
  });

  it.each(['-1', '1.5', '50ms', '10001', '0x10'])('rejects %j, naming the variable', (raw) => {
    expect(() => parseSandboxLatency(raw)).toThrow(/AFFIX_SANDBOX_LATENCY_MS must be/);
  });
});
