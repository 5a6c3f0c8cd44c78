/**
 * Affix's client may carry fields we do not model (its spec has no `additionalProperties: false`).
 * Through the real chain (a production-like container: real SSM loader against the local SSM
 * endpoint, real Affix HTTP client, middy), any sequence of PATCHes and PUTs must leave them exactly
 * as they were at Affix, and never show them.
 *
 * The sandbox keeps unmodelled members as JSON text and stores a POST body's members' text as is, so
 * what the proxy sends is what the next GET returns, byte for byte: nothing is normalized on our behalf.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonKeepingNumbers } from '../../../../functions/core/domain/schemas.ts';
import { createAffixSandbox } from '../../../../local/affix-sandbox.ts';
import type { SsmEndpoint } from '../../../../local/ssm-endpoint.ts';
import { CLIENT_ID, ETAG_KEY_BASE64, SECRET_A, SECRET_B } from '../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../support/capture.ts';
import { type ProxyContainer, proxyContainer, startProxySsm } from '../../../support/proxy-container.ts';

const output = captureOutput();
const MODELLED = ['client_id', 'client_secret', 'name', 'redirect_uris', 'webhook_uri'];

/** The sandbox holding this client text; `state` is what a GET answers, `posts` the POST bodies' texts. */
function textAffix(initial: string) {
  const sandbox = createAffixSandbox({ clientText: initial });
  return {
    fetch: sandbox.fetch,
    get state() {
      return sandbox.clientText;
    },
    get posts() {
      return sandbox.requests.flatMap((request) =>
        request.method === 'POST' ? [request.bodyText ?? ''] : [],
      );
    },
  };
}

/** The unmodelled fields of a client text, as JSON with number text kept (key order as parsed). */
function extrasOf(text: string): string {
  const client = parseJsonKeepingNumbers(text) as Record<string, unknown>;
  return JSON.stringify(
    Object.fromEntries(Object.entries(client).filter(([key]) => !MODELLED.includes(key))),
  );
}

function clientText(extraMembers: string[]): string {
  const known = [
    `"client_id":${JSON.stringify(CLIENT_ID)}`,
    `"client_secret":${JSON.stringify([SECRET_A])}`,
    '"name":"Extra App"',
    '"redirect_uris":["https://app.example.com/callback"]',
    '"webhook_uri":"https://hooks.example.com/affix"',
  ];
  // Unmodelled fields before, between and after ours, as any server might order them.
  const [first = [], rest = []] = [extraMembers.slice(0, 1), extraMembers.slice(1)];
  return `{${[...first, ...known.slice(0, 2), ...rest, ...known.slice(2)].join(',')}}`;
}

let ssm: SsmEndpoint;
const containers: ProxyContainer[] = [];
beforeAll(async () => {
  ssm = await startProxySsm({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: ETAG_KEY_BASE64 });
});
afterAll(async () => {
  for (const container of containers) container.close();
  await ssm.close();
});
function container(affixFetch: typeof fetch): ProxyContainer {
  const built = proxyContainer(ssm, affixFetch);
  containers.push(built);
  return built;
}

const WRITES = [
  { method: 'PATCH', path: '/client', body: { name: 'Renamed' } },
  { method: 'PATCH', path: '/client', body: { webhook_uri: null } },
  { method: 'PATCH', path: '/client', body: { webhook_uri: 'https://hooks.example.com/v2' } },
  {
    method: 'PATCH',
    path: '/client',
    body: { redirect_uris: ['https://app.example.com/a', 'https://b.example.com/'] },
  },
  { method: 'PUT', path: '/client/secrets', body: { client_secret: [SECRET_A, SECRET_B] } },
  { method: 'PUT', path: '/client/secrets', body: { client_secret: [SECRET_A] } },
] as const;

describe('unmodelled Affix fields', () => {
  it('go back to Affix exactly as they came: big and precise numbers, special keys, unicode, null', async () => {
    const members = [
      '"account_ref":12345678901234567890123',
      '"ratio":1.50',
      '"huge":1e400',
      '"negative_zero":-0',
      '"nested":{"b":[1,{"z":null,"a":"ünï©ødé 🎉"}],"a":{}}',
      '"__proto__":{"polluted":true}',
      '"constructor":"not a function"',
      '"escaped":"line\\nbreak \\"quoted\\" \\u0000"',
      '"empty":[]',
      '"flag":false',
    ];
    const affix = textAffix(clientText(members));
    const before = extrasOf(affix.state);
    const proxy = container(affix.fetch);
    for (const write of WRITES) {
      expect((await proxy.invoke(write)).statusCode).toBe(200);
    }
    expect(affix.posts).toHaveLength(WRITES.length);
    for (const post of affix.posts) {
      // The literal texts survive, not just values that parse the same.
      for (const member of members.filter((m) => !m.startsWith('"nested"') && !m.startsWith('"escaped"'))) {
        expect(post).toContain(member);
      }
      expect(JSON.parse(post)).not.toHaveProperty('client_id');
    }
    expect(extrasOf(affix.state)).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survive any sequence of PATCHes and PUTs, are never shown, and are never reported as changed', async () => {
    const key = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'extra', '0', '10', ''),
    );
    const value = fc.oneof(
      fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
      fc.constantFrom('1.0', '1.50', '1e400', '-0', '0.1e-5', '123456789012345678'),
    );
    const extras = fc
      .uniqueArray(fc.tuple(key, value), { minLength: 1, maxLength: 6, selector: ([k]) => k })
      .map((pairs) => pairs.filter(([k]) => !MODELLED.includes(k)))
      .filter((pairs) => pairs.length > 0);
    const writes = fc.array(fc.record({ write: fc.constantFrom(...WRITES), withEtag: fc.boolean() }), {
      minLength: 1,
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(extras, writes, async (pairs, sequence) => {
        output.clear();
        const affix = textAffix(clientText(pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`)));
        const before = extrasOf(affix.state);
        const proxy = container(affix.fetch);
        for (const { write, withEtag } of sequence) {
          const read = await proxy.invoke({ method: 'GET', path: '/client' });
          expect(read.statusCode).toBe(200);
          expect(Object.keys(JSON.parse(read.body)).sort()).toEqual([...MODELLED].sort());
          const headers: Record<string, string> = withEtag ? { 'if-match': String(read.headers?.etag) } : {};
          const result = await proxy.invoke({ ...write, headers });
          expect(result.statusCode).toBe(200);
          expect(Object.keys(JSON.parse(result.body)).sort()).toEqual([...MODELLED].sort());
          expect(extrasOf(affix.state)).toBe(before);
        }
        for (const post of affix.posts) expect(extrasOf(post)).toBe(before);
        const audits = output.json().flatMap((line) => (line.audit === undefined ? [] : [line.audit]));
        expect(audits.length).toBe(sequence.length);
        for (const audit of audits as { changedFields: string[] }[]) {
          for (const field of audit.changedFields) {
            expect(['name', 'webhook_uri', 'redirect_uris', 'client_secret']).toContain(field);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
