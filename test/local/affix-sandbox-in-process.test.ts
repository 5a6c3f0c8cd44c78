/**
 * The in-process sandbox answers as the HTTP one does: for the same state and the same requests,
 * the same status, headers that matter and body bytes. Also the in-process forms of the network
 * faults (a rejected fetch with `cause.code`, hangs that honour the caller's AbortSignal).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AffixSandbox,
  basicAuthHeader,
  CLIENT_PATH,
  createAffixSandbox,
  FAULTS_PATH,
  type InProcessAffixSandbox,
  SANDBOX_DEFAULTS,
  type SandboxFault,
  STATS_PATH,
  startAffixSandbox,
} from '../../local/affix-sandbox.ts';

const AUTH = basicAuthHeader(SANDBOX_DEFAULTS.clientId, SANDBOX_DEFAULTS.clientSecret[0]);
const VALID = {
  client_secret: [...SANDBOX_DEFAULTS.clientSecret],
  redirect_uris: ['https://app.example.com/callback'],
  name: 'Renamed ünï 🎉',
  logo_uri: 'https://cdn.example.com/logo.png',
  ignored: true,
};
const json = { 'content-type': 'application/json' };

interface Row {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  fault?: SandboxFault;
}

const ROWS: Row[] = [
  { name: 'GET' },
  { name: 'GET without Authorization', headers: {} },
  {
    name: 'GET with a wrong secret',
    headers: { authorization: basicAuthHeader(SANDBOX_DEFAULTS.clientId, 'x') },
  },
  {
    name: 'POST a valid client',
    method: 'POST',
    headers: { authorization: AUTH, ...json },
    body: JSON.stringify(VALID),
  },
  { name: 'GET after the POST' },
  { name: 'POST invalid', method: 'POST', headers: { authorization: AUTH, ...json }, body: '{"name":1}' },
  { name: 'POST malformed', method: 'POST', headers: { authorization: AUTH, ...json }, body: '{"name":' },
  {
    name: 'POST text/plain',
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'text/plain' },
    body: '{}',
  },
  { name: 'POST empty', method: 'POST', headers: { authorization: AUTH, ...json }, body: '' },
  { name: 'DELETE', method: 'DELETE' },
  { name: 'unknown path', path: '/2023-03-01/management/other' },
  { name: 'stats', path: STATS_PATH, headers: {} },
  { name: 'faults, bad body', method: 'POST', path: FAULTS_PATH, headers: json, body: '{"status":1}' },
  {
    name: 'faults, queued',
    method: 'POST',
    path: FAULTS_PATH,
    headers: json,
    body: '{"status":429,"retryAfter":7}',
  },
  { name: 'the queued 429' },
  { name: 'status with a text body', fault: { kind: 'status', status: 502, body: '<b>bad gateway</b>' } },
  { name: 'status 503, default body', fault: { kind: 'status', status: 503 } },
  {
    name: 'echo-400',
    method: 'POST',
    headers: { authorization: AUTH, ...json },
    body: JSON.stringify(VALID),
    fault: {
      kind: 'echo-400',
      parts: ['authorization', 'credentials', 'secret', 'secret-base64', 'body'],
      validationError: 'v',
    },
  },
  { name: 'non-json', fault: { kind: 'non-json' } },
  { name: 'wrong-shape', fault: { kind: 'wrong-shape', value: [1, { a: null }] } },
  {
    name: 'other-client',
    fault: { kind: 'other-client', name: 'Changed', extraSecret: 'secret-from-elsewhere-0001' },
  },
  { name: 'huge-body, declared', fault: { kind: 'huge-body', bytes: 200_000, contentLength: true } },
  { name: 'huge-body, streamed', fault: { kind: 'huge-body', bytes: 200_000 } },
  { name: 'delay', fault: { kind: 'delay', ms: 5 } },
  { name: 'stats at the end', path: STATS_PATH, headers: {} },
];

const SHOWN_HEADERS = ['content-type', 'content-length', 'retry-after', 'allow'];

async function seen(response: Response) {
  const headers: Record<string, string | null> = {};
  for (const name of SHOWN_HEADERS) headers[name] = response.headers.get(name);
  return {
    status: response.status,
    headers,
    body: Buffer.from(await response.arrayBuffer()).toString('base64'),
  };
}

function send(fetchImpl: typeof fetch, origin: string, row: Row): Promise<Response> {
  return fetchImpl(`${origin}${row.path ?? CLIENT_PATH}`, {
    method: row.method ?? 'GET',
    headers: row.headers ?? { authorization: AUTH },
    ...(row.body === undefined ? {} : { body: row.body }),
  });
}

let http: AffixSandbox | undefined;
afterEach(async () => {
  await http?.close();
  http = undefined;
});

describe('the in-process sandbox', () => {
  it('answers a table of requests byte-identically to the HTTP sandbox with the same state', async () => {
    const options = { extraFields: { logo_uri: 'https://cdn.example.com/old.png', tier: { n: 1.5 } } };
    http = await startAffixSandbox({ port: 0, ...options });
    const inProcess = createAffixSandbox(options);
    const pairs: { name: string; http: unknown; inProcess: unknown }[] = [];
    for (const row of ROWS) {
      if (row.fault) {
        http.injectFault(row.fault);
        inProcess.injectFault(row.fault);
      }
      pairs.push({
        name: row.name,
        http: await seen(await send(fetch, http.url, row)),
        inProcess: await seen(await send(inProcess.fetch, 'https://affix.test', row)),
      });
    }
    for (const pair of pairs) expect(pair.inProcess, pair.name).toEqual(pair.http);
    // The table exercised the state: the POST replaced the client and kept the unmodelled field it sent.
    expect(inProcess.client).toEqual(http.client);
    expect(inProcess.extraFields).toEqual({ logo_uri: 'https://cdn.example.com/logo.png' });
    expect(inProcess.requests.map((r) => [r.method, r.authorized])).toEqual(
      http.requests.map((r) => [r.method, r.authorized]),
    );
  });

  it('fails a network fault as fetch does: a TypeError whose cause has the code', async () => {
    const sandbox = createAffixSandbox();
    sandbox.injectFault({ kind: 'network', code: 'ECONNREFUSED' });
    sandbox.injectFault({ kind: 'reset' });
    for (const code of ['ECONNREFUSED', 'ECONNRESET']) {
      const error = await sandbox.fetch(`https://affix.test${CLIENT_PATH}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toBe('fetch failed');
      expect(((error as TypeError).cause as { code: string }).code).toBe(code);
    }
  });

  it('over HTTP, a network fault resets the socket', async () => {
    http = await startAffixSandbox({ port: 0 });
    http.injectFault({ kind: 'network', code: 'ECONNREFUSED' });
    const error = await fetch(`${http.url}${CLIENT_PATH}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
  });

  async function hangs(sandbox: InProcessAffixSandbox, fault: SandboxFault, readBody: boolean) {
    sandbox.injectFault(fault);
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    setTimeout(() => controller.abort(reason), 30);
    const outcome = await sandbox
      .fetch(`https://affix.test${CLIENT_PATH}`, {
        headers: { authorization: AUTH },
        signal: controller.signal,
      })
      .then((response) => (readBody ? response.text() : 'answered'))
      .catch((error: unknown) => error);
    return { outcome, reason };
  }

  it('hangs until the caller aborts: before headers and mid-body, failing with the abort reason', async () => {
    const sandbox = createAffixSandbox();
    for (const [fault, readBody] of [
      [{ kind: 'hang-before-headers' }, false],
      [{ kind: 'hang-mid-body' }, true],
    ] as const) {
      // Failing with the abort reason means it was still hanging when the caller aborted.
      const { outcome, reason } = await hangs(sandbox, fault, readBody);
      expect(outcome, fault.kind).toBe(reason);
    }
  });

  it('a body error mid-stream rejects the body read', async () => {
    const sandbox = createAffixSandbox();
    sandbox.injectFault({ kind: 'body-error' });
    const response = await sandbox.fetch(`https://affix.test${CLIENT_PATH}`, {
      headers: { authorization: AUTH },
    });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow('terminated');
  });

  it('keeps unmodelled members as JSON text: a POST sends them back, the GET shows them byte for byte', async () => {
    const members =
      '"ratio":1.50,"huge":1e400,"id":12345678901234567890123,"z":-0,"s":"a\\u0000\\"b","o":{"k":[1.0, {}]}';
    const sandbox = createAffixSandbox({
      clientText: `{ "client_id":"${SANDBOX_DEFAULTS.clientId}","client_secret":["${SANDBOX_DEFAULTS.clientSecret[0]}"],"name":"N","redirect_uris":[],${members} }`,
    });
    expect(sandbox.clientText).toBe(
      `{"client_id":"${SANDBOX_DEFAULTS.clientId}","client_secret":["${SANDBOX_DEFAULTS.clientSecret[0]}"],"name":"N","redirect_uris":[],${members}}`,
    );
    const posted = '"huge":1E+400,"ratio":1.5000,"unknown":true';
    const res = await sandbox.fetch(`https://affix.test${CLIENT_PATH}`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: `{"client_secret":["${SANDBOX_DEFAULTS.clientSecret[0]}"],"name":"M","redirect_uris":[],${posted}}`,
    });
    // Replace semantics: the schema's members it sent, as it sent them, in its order; `unknown` dropped.
    expect(await res.text()).toBe(
      `{"client_id":"${SANDBOX_DEFAULTS.clientId}","client_secret":["${SANDBOX_DEFAULTS.clientSecret[0]}"],"name":"M","redirect_uris":[],"webhook_uri":null,"huge":1E+400,"ratio":1.5000}`,
    );
  });

  it('close() ends hangs that have no signal', async () => {
    const sandbox = createAffixSandbox();
    sandbox.injectFault({ kind: 'hang-before-headers' });
    const pending = sandbox.fetch(`https://affix.test${CLIENT_PATH}`).catch((e: unknown) => e);
    await sandbox.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});
