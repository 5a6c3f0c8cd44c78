/**
 * The keyed ETag through the real chain: containers built like production (own SDK client against the
 * local SSM endpoint, own cache, the real Affix client and middy chain) over the in-memory Affix.
 *
 * Why keyed: with an unkeyed hash, a reader who holds a GET answer and its ETag could test secret
 * guesses offline. The first test plays that reader with every unkeyed construction we could think of,
 * given even the true secret, and first proves the search would find a tag made the old way.
 */
import { createHash, createHmac, getHashes, randomBytes } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../../functions/core/domain/schemas.ts';
import { type AffixClientState, createAffixSandbox } from '../../../../local/affix-sandbox.ts';
import type { SsmEndpoint } from '../../../../local/ssm-endpoint.ts';
import { CLIENT_ID, initialClient, SECRET_A, SECRET_B } from '../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../support/capture.ts';
import { type ProxyContainer, proxyContainer, startProxySsm } from '../../../support/proxy-container.ts';

const output = captureOutput();

const KEY_1 = randomBytes(32).toString('base64');
const KEY_2 = randomBytes(32).toString('base64');
const GET = { method: 'GET', path: '/client' } as const;

const endpoints: SsmEndpoint[] = [];

/** A sandbox holding `json`: the modelled fields as its client, every other key as an unmodelled field. */
function sandboxOf(json: Record<string, unknown> = initialClient()) {
  const { client_id, client_secret, name, redirect_uris, webhook_uri, ...extraFields } = json;
  const client = { client_id, client_secret, name, redirect_uris, webhook_uri } as AffixClientState;
  return createAffixSandbox({ client, extraFields });
}
const containers: ProxyContainer[] = [];
let ssmKey1: SsmEndpoint;
let ssmKey2: SsmEndpoint;

beforeAll(async () => {
  ssmKey1 = await startProxySsm({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: KEY_1 });
  ssmKey2 = await startProxySsm({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: KEY_2 });
  endpoints.push(ssmKey1, ssmKey2);
});
afterAll(async () => {
  for (const container of containers) container.close();
  await Promise.all(endpoints.map((endpoint) => endpoint.close()));
});

function container(ssm: SsmEndpoint, affixFetch: typeof fetch): ProxyContainer {
  const built = proxyContainer(ssm, affixFetch);
  containers.push(built);
  return built;
}

function etagOf(result: APIGatewayProxyResult): string {
  expect(result.statusCode).toBe(200);
  const etag = result.headers?.etag;
  if (typeof etag !== 'string') throw new Error('no ETag');
  return etag;
}

// ---- The offline attacker: every unkeyed construction of (answer, secret) we could think of. ----

const ENCODINGS = ['base64', 'base64url', 'hex'] as const;
const PREFIXES = [16, 22, 27, 32, 43, 44, 64] as const;
const HASHES = ['sha256', 'sha1', 'md5', 'sha512', 'sha384', 'sha224', 'sha3-256'].filter((name) =>
  getHashes().includes(name),
);

/** The texts a reader can build from a GET answer once they guess the secret list. */
function preimages(answer: Record<string, unknown>, secrets: string[]): string[] {
  const id = String(answer.client_id);
  const name = String(answer.name);
  const webhook = (answer.webhook_uri ?? null) as string | null;
  const redirects = answer.redirect_uris as string[];
  const withSecrets: Record<string, unknown> = { ...answer, client_secret: secrets };
  const { client_id: _id, ...withoutId } = withSecrets;
  const fieldsInAffixOrder = {
    client_id: id,
    client_secret: secrets,
    name,
    redirect_uris: redirects,
    webhook_uri: webhook,
  };
  const texts = [
    // The old canonical form, and the same with the current construction's label.
    JSON.stringify([id, name, webhook, redirects, secrets]),
    canonicalJson(['affix-webhook-config etag v1', id, name, webhook, redirects, secrets, {}]),
    canonicalJson([id, name, webhook, redirects, secrets, {}]),
    // JSON of the answer with the true secrets substituted, in several key orders.
    JSON.stringify(withSecrets),
    canonicalJson(withSecrets),
    JSON.stringify(withoutId),
    canonicalJson(withoutId),
    JSON.stringify(fieldsInAffixOrder),
    JSON.stringify({ ...fieldsInAffixOrder, webhook_uri: webhook ?? undefined }),
    // Secrets alone and glued to the answer.
    ...secrets,
    secrets.join(''),
    JSON.stringify(secrets),
    `${id}:${secrets[0]}`,
    `${JSON.stringify(answer)}${secrets.join('')}`,
    `${secrets.join('')}${JSON.stringify(answer)}`,
  ];
  return [...new Set(texts)];
}

/** Every tag such a construction could give, as the text between the quotes. */
function candidateTags(answer: Record<string, unknown>, secrets: string[]): Set<string> {
  const digests: Buffer[] = [];
  for (const text of preimages(answer, secrets)) {
    for (const hash of HASHES) {
      digests.push(createHash(hash).update(text).digest());
      // "Keyed" with something the reader knows is not keyed at all.
      for (const guessableKey of ['', CLIENT_ID, ...secrets]) {
        digests.push(createHmac(hash, guessableKey).update(text).digest());
      }
    }
  }
  const tags = new Set<string>();
  for (const digest of digests) {
    for (const encoding of ENCODINGS) {
      const full = digest.toString(encoding);
      tags.add(full);
      tags.add(full.replace(/=+$/, ''));
      for (const length of PREFIXES) tags.add(full.slice(0, length));
    }
  }
  return tags;
}

function recovers(etag: string, answer: Record<string, unknown>, secrets: string[]): boolean {
  const inner = etag.replace(/^(?:W\/)?"|"$/g, '');
  return candidateTags(answer, secrets).has(inner);
}

describe('a keyed ETag', () => {
  it('cannot be reproduced by any unkeyed construction of the GET answer and the true secret', async () => {
    const affix = sandboxOf({ ...initialClient(), client_secret: [SECRET_A, SECRET_B] });
    const result = await container(ssmKey1, affix.fetch).invoke(GET);
    const etag = etagOf(result);
    const answer = JSON.parse(result.body) as Record<string, unknown>;
    const secrets = [SECRET_A, SECRET_B];

    // The search works: tags made the old way (and the new canonical form without the key) are found.
    const [id, name, webhook, redirects] = [
      answer.client_id,
      answer.name,
      answer.webhook_uri,
      answer.redirect_uris,
    ];
    const oldTag = createHash('sha256')
      .update(JSON.stringify([id, name, webhook, redirects, secrets]))
      .digest('base64url')
      .slice(0, 22);
    expect(recovers(`"${oldTag}"`, answer, secrets)).toBe(true);
    const unkeyedNew = createHash('sha256')
      .update(canonicalJson(['affix-webhook-config etag v1', id, name, webhook, redirects, secrets, {}]))
      .digest('base64url');
    expect(recovers(`"${unkeyedNew}"`, answer, secrets)).toBe(true);

    // The real tag: strong, and out of the reader's reach even with the true secrets in hand.
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(recovers(etag, answer, secrets)).toBe(false);
    expect(recovers(etag, answer, [SECRET_A])).toBe(false);
  });

  it('is the same from two separately built containers with the same key, whatever the key order', async () => {
    const extras = { tier: { level: 3, flags: ['a', 'b'] }, count: 7, note: null };
    const affix = sandboxOf({ ...initialClient(), ...extras });
    const first = etagOf(await container(ssmKey1, affix.fetch).invoke(GET));
    // The same client as another Affix node might serialize it: every object's keys reversed.
    const reversed = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reversed)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reversed(v)]),
            )
          : value;
    const mirrored = sandboxOf(
      reversed({ ...affix.client, ...affix.extraFields }) as Record<string, unknown>,
    );
    const second = etagOf(await container(ssmKey1, mirrored.fetch).invoke(GET));
    expect(second).toBe(first);
  });

  it('differs under another key, and an ETag made under the old key gets 412 once, then a re-GET works', async () => {
    const affix = sandboxOf();
    const underKey1 = etagOf(await container(ssmKey1, affix.fetch).invoke(GET));
    const rotated = container(ssmKey2, affix.fetch);
    const underKey2 = etagOf(await rotated.invoke(GET));
    expect(underKey2).not.toBe(underKey1);

    const change = (ifMatch: string) =>
      rotated.invoke({
        method: 'PATCH',
        path: '/client',
        body: { name: 'After the key change' },
        headers: { 'if-match': ifMatch },
      });
    const stale = await change(underKey1);
    expect(stale.statusCode).toBe(412);
    expect(affix.requests.filter((call) => call.method === 'POST')).toHaveLength(0);
    const fresh = await change(etagOf(await rotated.invoke(GET)));
    expect(fresh.statusCode).toBe(200);
  });

  it('changes when any one field, any unmodelled field or any secret changes, even when the answer looks the same', async () => {
    const base = { ...initialClient(), tier: { level: 3, flags: ['a'] }, count: 7, big: 1 };
    // Same length and last four characters: the masked answer cannot tell these secrets apart.
    const lookalike = `${SECRET_A.slice(0, 3)}X${SECRET_A.slice(4)}`;
    const variants: Record<string, Record<string, unknown>> = {
      base,
      name: { ...base, name: 'Other' },
      webhookOff: { ...base, webhook_uri: null },
      redirects: { ...base, redirect_uris: ['https://other.example.com/cb'] },
      redirectOrder: { ...base, redirect_uris: [...base.redirect_uris, 'https://b.example.com/cb'] },
      secretAdded: { ...base, client_secret: [SECRET_A, SECRET_B] },
      secretLookalike: { ...base, client_secret: [lookalike] },
      clientId: { ...base, client_id: 'client-0000-other' },
      extraNested: { ...base, tier: { level: 4, flags: ['a'] } },
      extraArray: { ...base, tier: { level: 3, flags: ['a', 'b'] } },
      extraNumber: { ...base, count: 8 },
      extraType: { ...base, count: '7' },
      extraNull: { ...base, count: null },
      extraAdded: { ...base, more: true },
      extraRemoved: { ...initialClient(), tier: { level: 3, flags: ['a'] }, count: 7 },
    };
    const seen = new Map<string, string>();
    const answers = new Map<string, string>();
    for (const [label, client] of Object.entries(variants)) {
      const affix = sandboxOf(client);
      // The lookalike is a real secret at Affix, so the proxy must authenticate with it.
      const ssm =
        label === 'secretLookalike' || label === 'clientId'
          ? await startProxySsm({
              clientId: String(client.client_id),
              clientSecret: (client.client_secret as string[])[0] as string,
              etagKey: KEY_1,
            })
          : ssmKey1;
      if (ssm !== ssmKey1) endpoints.push(ssm);
      const result = await container(ssm, affix.fetch).invoke(GET);
      const etag = etagOf(result);
      expect(seen.get(etag), `${label} has the ETag of ${seen.get(etag)}`).toBeUndefined();
      seen.set(etag, label);
      answers.set(label, result.body);
    }
    expect(seen.size).toBe(Object.keys(variants).length);
    // What made this worth testing: the answers themselves do not show these differences.
    expect(answers.get('secretLookalike')).toBe(answers.get('base'));
    expect(answers.get('extraNested')).toBe(answers.get('base'));
  });

  it('is never made with a weak key: the proxy answers credentials-unavailable, naming no value', async () => {
    const weak = Buffer.alloc(31, 0x41).toString('base64');
    const ssm = await startProxySsm({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: weak });
    endpoints.push(ssm);
    const affix = sandboxOf();
    const result = await container(ssm, affix.fetch).invoke(GET);
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toMatchObject({
      type: 'urn:affix-webhook-config:problem:credentials-unavailable',
    });
    expect(result.headers?.etag).toBeUndefined();
    const said = `${result.body}${output.lines.join('\n')}`;
    expect(said).not.toContain(weak);
    expect(said).not.toContain(SECRET_A);
    expect(output.lines.join('\n')).toContain('EtagKeyTooShort');
  });
});
