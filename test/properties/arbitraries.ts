/**
 * fast-check arbitraries for the property suite: whole API Gateway (REST v1) events with hostile
 * bodies, headers and identities, plus misbehaving Affix and SSM stand-ins.
 *
 * Bodies are built as JSON *text* (never via `JSON.stringify` of an object literal), so keys such as
 * `__proto__` reach the handler exactly as an attacker would send them.
 */
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import fc from 'fast-check';
import type { EchoPart, SandboxFault } from '../../local/affix-sandbox.ts';
import { createLambdaContext } from '../../local/lambda-context.ts';
import { toApiGatewayEvent } from '../../local/lambda-event.ts';
import { SECRET_A, SECRET_B } from '../support/affix-fixtures.ts';

/** One scripted Affix answer: a fault of the sandbox (`local/affix-sandbox/faults.ts`). */
export type UpstreamStep = SandboxFault;

/** What the in-memory SSM of the harness answers before the parameter values. */
export type SsmFault =
  | 'ThrottlingException'
  | 'AccessDeniedException'
  | 'KMSAccessDeniedException'
  | 'InternalServerError'
  | 'AbortError'
  | 'missing-secret'
  | 'missing-both'
  | 'empty-secret';

/** Larger than the proxy reads from Affix (1 MiB). */
export const HUGE_BYTES = 1024 * 1024 + 16;

/**
 * A status answer; without a Retry-After none is sent (the sandbox would add `Retry-After: 1` to a
 * 429 or 503), and without a text the body is `{"message":"status <n>"}`.
 */
function statusStep(status: number, retryAfter: string | undefined, text: string | undefined): UpstreamStep {
  return {
    kind: 'status',
    status,
    body: text ?? JSON.stringify({ message: `status ${status}` }),
    ...(retryAfter === undefined ? { headers: {} } : { retryAfter }),
  };
}

export const CURRENT_ETAG = '<current-etag>';

export type IdentityKind =
  | 'arn'
  | 'caller-only'
  | 'nulls'
  | 'empty'
  | 'blank'
  | 'no-identity'
  | 'no-request-context';

export interface RequestSpec {
  method: string;
  path: string;
  /** `'same'`: like the local API, the resource is the path. */
  resource: string | null | 'same';
  headers: [string, string][] | null;
  body: string | null;
  isBase64Encoded: boolean;
  identity: IdentityKind;
  remainingMs: number;
  /** Strings the request carried as secrets (for the leak check). */
  secrets: string[];
  /** Values that must never reach a log line (the caller's signature and session token). */
  canaries: string[];
}

export interface SsmSpec {
  /** `stale-cache`: SSM already holds SECRET_B (Affix holds it, maybe with SECRET_A), the cache still has SECRET_A. */
  rotation: 'none' | 'stale-cache';
  affixHasBoth: boolean;
  faults: SsmFault[];
}

/** The write lock for this request: free, held by another writer past the wait, or its store down. */
export type LockSpec = 'free' | 'contended' | 'broken';

export interface Scenario {
  request: RequestSpec;
  upstream: { get: UpstreamStep[]; post: UpstreamStep[] };
  ssm: SsmSpec;
  lock: LockSpec;
}

// ---------------------------------------------------------------- JSON text building blocks

/** Values whose JSON text holds a `__proto__` or `constructor.prototype` member. */
const POLLUTING_VALUES: unknown[] = [
  JSON.parse('{"__proto__":{"polluted":"yes"}}'),
  JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}'),
  JSON.parse('[{"__proto__":{"isAdmin":true}}]'),
];

const KEYS = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '__defineGetter__',
    'name ',
    'NAME',
    'client_id',
    'webhookUri',
    '',
  ),
  fc.string({ maxLength: 12 }),
);

const anyValue = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(...POLLUTING_VALUES) },
);

const entry = (key: string, value: unknown): string => `${JSON.stringify(key)}:${JSON.stringify(value)}`;
const objectText = (entries: string[]): string => `{${entries.join(',')}}`;

// ---------------------------------------------------------------- domain values

/** A valid secret: 16-64 visible ASCII characters, quotes and backslashes included. */
export const validSecret = fc.stringMatching(/^[!-~]{16,64}$/);

const validUrl = fc.constantFrom(
  'https://hooks.example.com/affix',
  'https://hooks.example.com/v2?x=1',
  'https://app.example.com/callback',
  'http://localhost:8080/cb',
  'http://127.0.0.1/cb',
);

const name = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('Renamed App', '  padded  ', 'Test App', 'ünïcødé ✓') },
  fc.constantFrom('', '   ', '\uD800 lone surrogate'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 190, max: 260 }).map((n) => 'n'.repeat(n)),
  anyValue,
);

const webhookUri = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  { weight: 12, arbitrary: validUrl },
  fc.webUrl(),
  fc.constantFrom(
    'http://insecure.example.com/hook',
    'https://user:password@hooks.example.com/',
    'javascript:alert(1)',
    'https://',
    `https://hooks.example.com/${'p'.repeat(2100)}`,
    // Valid URLs no destination policy allows (destination-not-allowed).
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.7/h',
    'https://[::ffff:7f00:1]/',
  ),
  fc.string({ maxLength: 30 }),
  anyValue,
);

const redirectUris = fc.oneof(
  { weight: 12, arbitrary: fc.uniqueArray(validUrl, { minLength: 1, maxLength: 3 }) },
  fc.array(fc.oneof(validUrl, fc.webUrl(), fc.string({ maxLength: 20 })), { maxLength: 22 }),
  anyValue,
);

const secretElement = fc.oneof(
  { weight: 4, arbitrary: fc.constant(SECRET_A) },
  { weight: 2, arbitrary: fc.constant(SECRET_B) },
  { weight: 4, arbitrary: validSecret },
  { weight: 1, arbitrary: fc.constantFrom('short', `${SECRET_A} with space`, 'x'.repeat(257)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: anyValue },
);

const secretList = fc.oneof(
  /** Mostly a list the guard accepts: the current secret plus new ones. */
  {
    weight: 12,
    arbitrary: fc
      .tuple(fc.uniqueArray(validSecret, { maxLength: 3 }), fc.nat(3))
      .map(([extra, at]) => [...extra.slice(0, at), SECRET_A, ...extra.slice(at)]),
  },
  { weight: 4, arbitrary: fc.array(secretElement, { maxLength: 7 }) },
  { weight: 1, arbitrary: anyValue },
);

const extraEntries = fc.oneof(
  { weight: 8, arbitrary: fc.constant<string[]>([]) },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.tuple(KEYS, anyValue).map(([key, value]) => entry(key, value)),
      { minLength: 1, maxLength: 2 },
    ),
  },
);

interface BodyDraft {
  text: string | null;
  secrets: string[];
}

function secretsOf(list: unknown): string[] {
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : [];
}

const patchBody: fc.Arbitrary<BodyDraft> = fc
  .record(
    {
      name,
      webhook_uri: webhookUri,
      redirect_uris: redirectUris,
      // Not patchable (PUT /client/secrets is): sent now and then to check it is refused.
      client_secret: fc.option(secretList, { nil: undefined, freq: 6 }),
      extra: extraEntries,
    },
    { requiredKeys: ['client_secret', 'extra'] },
  )
  .map(({ extra, ...fields }) => ({
    text: objectText([
      ...Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => entry(key, value)),
      ...extra,
    ]),
    secrets: secretsOf(fields.client_secret),
  }));

const secretsBody: fc.Arbitrary<BodyDraft> = fc
  .tuple(
    secretList,
    extraEntries,
    fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  )
  .map(([list, extra, omit]) => ({
    text: objectText([...(omit ? [] : [entry('client_secret', list)]), ...extra]),
    secrets: secretsOf(list),
  }));

const nested = fc
  .tuple(fc.integer({ min: 1, max: 9_000 }), fc.constantFrom('array', 'object', 'in-name'))
  .map(([depth, shape]) => {
    if (shape === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
    if (shape === 'object') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return `{"name":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  });

const hugeString = fc
  .tuple(fc.integer({ min: 1_000, max: 40_000 }), fc.constantFrom('name', 'webhook_uri', 'client_secret'))
  .map(([length, field]) =>
    field === 'client_secret'
      ? `{"client_secret":["${'s'.repeat(length)}"]}`
      : `{"${field}":"${'x'.repeat(length)}"}`,
  );

const pollution = fc.constantFrom(
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"name":"x","__proto__":{"isAdmin":true}}',
  '{"webhook_uri":{"__proto__":{"polluted":1}}}',
  `{"client_secret":["${SECRET_A}"],"__proto__":[]}`,
  '{"redirect_uris":["https://a.example.com"],"constructor":{"prototype":{"toString":1}}}',
  '{"__proto__":null}',
  '{"constructor":null,"name":"x"}',
);

const junkText = fc.oneof(
  fc.constantFrom(
    '',
    '   ',
    '\n',
    'null',
    'true',
    '1',
    '[]',
    '{}',
    '"string"',
    '{"name":',
    '{"name":"x"}}',
    '\u0000',
  ),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .array(fc.integer({ min: 0xd800, max: 0xdfff }), { minLength: 1, maxLength: 4 })
    .map((units) => `{"name":"${String.fromCharCode(...units)}"}`),
);

const drafted = (text: fc.Arbitrary<string | null>): fc.Arbitrary<BodyDraft> =>
  text.map((value) => ({ text: value, secrets: [] }));

const hostileBody: fc.Arbitrary<BodyDraft> = fc.oneof(
  { weight: 2, arbitrary: drafted(fc.json({ maxDepth: 4 })) },
  { weight: 2, arbitrary: drafted(nested) },
  { weight: 2, arbitrary: drafted(hugeString) },
  { weight: 2, arbitrary: drafted(pollution) },
  { weight: 2, arbitrary: drafted(junkText) },
  { weight: 1, arbitrary: drafted(fc.constant(null)) },
);

/** For each method, mostly the body its route expects, otherwise anything hostile. */
function bodyDraftFor(method: string): fc.Arbitrary<BodyDraft> {
  const expected = method === 'PATCH' ? patchBody : method === 'PUT' ? secretsBody : hostileBody;
  return fc.oneof(
    { weight: 5, arbitrary: expected },
    { weight: 1, arbitrary: fc.oneof(patchBody, secretsBody) },
    { weight: 2, arbitrary: hostileBody },
  );
}

/** Bodies as API Gateway delivers them: text, or Base64 (binary media types, invalid UTF-8). */
const bodyFor = (bodyDraft: fc.Arbitrary<BodyDraft>) =>
  fc.oneof(
    { weight: 8, arbitrary: bodyDraft.map((draft) => ({ ...draft, base64: false })) },
    {
      weight: 1,
      arbitrary: bodyDraft.map((draft) => ({
        ...draft,
        text: draft.text === null ? null : Buffer.from(draft.text).toString('base64'),
        base64: true,
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc
            .uint8Array({ minLength: 1, maxLength: 8 })
            .map((bytes) => Buffer.concat([Buffer.from('{"name":"'), bytes, Buffer.from('"}')])),
          fc.constant(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
        )
        .map((bytes) => ({ text: Buffer.from(bytes).toString('base64'), secrets: [], base64: true })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('!!not base64!!', '====', 'eyJuYW1lIjoi')
        .map((text) => ({ text, secrets: [], base64: true })),
    },
  );

// ---------------------------------------------------------------- routes, headers, identity

const oddMethod = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom('POST', 'DELETE', 'HEAD', 'OPTIONS', 'get', 'patch', 'Put', 'TRACE', ''),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

export const KNOWN_PATHS = ['/client', '/client/secrets', '/webhooks/verify'] as const;
export const VERIFY_PATH = '/webhooks/verify';

/** Paths that are no route, among them the names of `Object.prototype` members. */
export const unknownPath = fc.oneof(
  fc.constantFrom(
    '/',
    '',
    '/clients',
    '/client/secrets/extra',
    '/Client',
    '//client',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '/__proto__',
    '/client/__proto__',
  ),
  fc.webPath().filter((path) => !/^\/(client(\/secrets)?|webhooks\/verify)\/*$/.test(path)),
);

/** Mostly a route's own method and path; otherwise any method on any path. */
const route = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom(
      { method: 'GET', path: '/client' },
      { method: 'PATCH', path: '/client' },
      { method: 'PATCH', path: '/client' },
      { method: 'PUT', path: '/client/secrets' },
      { method: 'PUT', path: '/client/secrets' },
      { method: 'PATCH', path: '/client/' },
      { method: 'PUT', path: '/client/secrets/' },
      { method: 'POST', path: VERIFY_PATH },
      { method: 'POST', path: VERIFY_PATH },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      method: fc.oneof(fc.constantFrom('GET', 'PATCH', 'PUT', 'POST'), oddMethod),
      path: fc.oneof(fc.constantFrom(...KNOWN_PATHS), unknownPath),
    }),
  },
);

const headerName = (lower: string) =>
  fc.constantFrom(
    lower,
    lower.toUpperCase(),
    lower.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()),
  );

/** Spellings of a Content-Type the routes accept (media types are case-insensitive, RFC 9110). */
export const acceptedJsonContentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'APPLICATION/JSON;charset=UTF-8',
  'application/json;charset="utf-8"',
  'application/json ; charset=utf-8',
  ' application/json',
  'application/json\t',
);

const contentTypeValue = fc.oneof(
  { weight: 12, arbitrary: acceptedJsonContentType },
  {
    weight: 1,
    arbitrary: fc.constantFrom('application/merge-patch+json', 'application/merge-patch+json; q=1'),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      '',
      ';',
      'application/json-patch+json',
      'application/vnd.api+json',
      '*/*',
      'json',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

const ifMatchValue = fc.oneof(
  fc.constantFrom(CURRENT_ETAG, '*', '"stale"', `W/${CURRENT_ETAG}`, `"other", ${CURRENT_ETAG}`, '', ' * '),
  fc.string({ maxLength: 30 }),
);

const signature = fc.stringMatching(/^[0-9a-f]{64}$/);
const sessionToken = fc.stringMatching(/^[A-Za-z0-9+/]{48}$/);

const headers = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 30,
    arbitrary: fc
      .record({
        contentType: fc.option(fc.tuple(headerName('content-type'), contentTypeValue), { freq: 30 }),
        duplicateContentType: fc.option(fc.tuple(headerName('content-type'), contentTypeValue), { freq: 1 }),
        ifMatch: fc.option(fc.tuple(headerName('if-match'), ifMatchValue), { freq: 2 }),
        extra: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 40 })), {
          maxLength: 3,
        }),
      })
      .map(({ contentType, duplicateContentType, ifMatch, extra }) =>
        [contentType, duplicateContentType, ifMatch, ...extra].filter(
          (pair): pair is [string, string] => pair !== null,
        ),
      ),
  },
);

const identity = fc.oneof(
  { weight: 24, arbitrary: fc.constant<IdentityKind>('arn') },
  { weight: 2, arbitrary: fc.constant<IdentityKind>('caller-only') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<IdentityKind>('nulls', 'empty', 'blank', 'no-identity', 'no-request-context'),
  },
);

const remainingMs = fc.oneof(
  { weight: 19, arbitrary: fc.constant(15_000) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 400 }) },
);

/** How a forwarded delivery is signed: by a secret Affix may hold, by another, or not in hex at all. */
type WebhookSignatureKind = 'secret-a' | 'secret-b' | 'other-key' | 'empty' | 'not-hex' | 'none';
const webhookSignatureKind = fc.constantFrom<WebhookSignatureKind>(
  'secret-a',
  'secret-a',
  'secret-b',
  'other-key',
  'empty',
  'not-hex',
  'none',
);

/** The `x-affix-api-signature` header for a body (over its decoded bytes when Base64). */
function webhookSignatureHeader(
  kind: WebhookSignatureKind,
  body: { text: string | null; base64: boolean },
): [string, string][] {
  const bytes = Buffer.from(body.text ?? '', body.base64 ? 'base64' : 'utf8');
  const hmac = (key: string) => createHmac('sha256', key).update(bytes).digest('hex');
  switch (kind) {
    case 'secret-a':
      return [['X-Affix-Api-Signature', hmac(SECRET_A)]];
    case 'secret-b':
      return [['x-affix-api-signature', hmac(SECRET_B).toUpperCase()]];
    case 'other-key':
      return [['x-affix-api-signature', hmac('not-a-client-secret-0000')]];
    case 'empty':
      return [['x-affix-api-signature', '']];
    case 'not-hex':
      return [['x-affix-api-signature', `sha256=${hmac(SECRET_A)}`]];
    case 'none':
      return [];
  }
}

export const requestSpec: fc.Arbitrary<RequestSpec> = route
  .chain(({ method, path }) =>
    fc.record({
      method: fc.constant(method),
      path: fc.constant(path),
      body: bodyFor(bodyDraftFor(method)),
      resource: fc.oneof(
        { weight: 8, arbitrary: fc.constant<'same'>('same') },
        { weight: 1, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...KNOWN_PATHS), unknownPath) },
      ),
      headers,
      identity,
      remainingMs,
      signature,
      sessionToken,
      webhookSignature: webhookSignatureKind,
    }),
  )
  .map(
    ({ body: drafted, signature: sig, sessionToken: token, headers: list, webhookSignature, ...rest }) => ({
      ...rest,
      headers:
        list === null
          ? null
          : [
              ...list,
              ...webhookSignatureHeader(webhookSignature, drafted),
              [
                'Authorization',
                `AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sig}`,
              ] as [string, string],
              ['X-Amz-Security-Token', token] as [string, string],
            ],
      body: drafted.text,
      isBase64Encoded: drafted.base64,
      secrets: drafted.secrets.filter((value) => value.length >= 16),
      canaries: list === null ? [] : [sig, token],
    }),
  );

// ---------------------------------------------------------------- Affix and SSM behaviour

const echoPart = fc.constantFrom<EchoPart>(
  'authorization',
  'credentials',
  'secret',
  'secret-base64',
  'body',
  'text',
);

export const upstreamStep: fc.Arbitrary<UpstreamStep> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        status: fc.constantFrom(500, 502, 503, 504, 429, 429, 400, 401, 403, 404, 409, 418, 301),
        retryAfter: fc.option(
          fc.constantFrom(
            '0',
            '1',
            '120',
            '-3',
            'soon',
            'Wed, 21 Oct 2015 07:28:00 GMT',
            ' 0 ',
            '99999999999999999999999',
          ),
          { nil: undefined },
        ),
        text: fc.option(fc.oneof(fc.json({ maxDepth: 2 }), fc.string({ maxLength: 40 })), { nil: undefined }),
      })
      .map(({ status, retryAfter, text }) => statusStep(status, retryAfter, text)),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('echo-400' as const),
      parts: fc.array(echoPart, { minLength: 1, maxLength: 3 }),
      validationError: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('name\u0000\u001b[31m too long')),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('network' as const),
      code: fc.constantFrom('ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'ENOTFOUND', 'CERT_HAS_EXPIRED'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'hang-before-headers' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'hang-mid-body' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'body-error' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('non-json' as const),
      text: fc.oneof(fc.constant('<html>502 Bad Gateway</html>'), fc.string({ maxLength: 30 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('wrong-shape' as const), value: fc.jsonValue({ maxDepth: 2 }) }),
  },
  {
    weight: 1,
    arbitrary: fc
      .boolean()
      .map((declared): UpstreamStep => ({ kind: 'huge-body', bytes: HUGE_BYTES, contentLength: declared })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('other-client' as const),
      name: fc.constantFrom('Changed Elsewhere', 'Test App'),
      extraSecret: validSecret,
    }),
  },
);

const status = (code: number, retryAfter?: string): UpstreamStep => statusStep(code, retryAfter, undefined);
const times = (step: UpstreamStep, count: number): UpstreamStep[] =>
  Array.from({ length: count }, () => step);

/** Whole failures that random sequences reach only rarely: each answer of the table comes up often. */
const upstreamPreset = fc.constantFrom<{ get: UpstreamStep[]; post: UpstreamStep[] }>(
  { get: [status(401), status(401)], post: [] },
  { get: [], post: [status(409)] },
  { get: [status(429, '120')], post: [] },
  { get: [], post: times(status(429, '0'), 3) },
  { get: times({ kind: 'network', code: 'ECONNREFUSED' }, 3), post: [] },
  { get: times({ kind: 'hang-before-headers' }, 3), post: [] },
  { get: [], post: times(status(503), 3) },
);

const upstream = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ get: [] as UpstreamStep[], post: [] as UpstreamStep[] }) },
  {
    weight: 3,
    arbitrary: fc.record({
      get: fc.array(upstreamStep, { maxLength: 4 }),
      post: fc.array(upstreamStep, { maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: upstreamPreset },
);

const ssmFault = fc.constantFrom<SsmFault>(
  'ThrottlingException',
  'AccessDeniedException',
  'KMSAccessDeniedException',
  'InternalServerError',
  'AbortError',
  'missing-secret',
  'missing-both',
  'empty-secret',
);

const ssm: fc.Arbitrary<SsmSpec> = fc.record({
  rotation: fc.oneof(
    { weight: 4, arbitrary: fc.constant<'none'>('none') },
    { weight: 1, arbitrary: fc.constant<'stale-cache'>('stale-cache') },
  ),
  affixHasBoth: fc.boolean(),
  faults: fc.oneof(
    { weight: 5, arbitrary: fc.constant<SsmFault[]>([]) },
    { weight: 1, arbitrary: fc.array(ssmFault, { minLength: 1, maxLength: 3 }) },
  ),
});

const lock: fc.Arbitrary<LockSpec> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<LockSpec>('free') },
  { weight: 1, arbitrary: fc.constantFrom<LockSpec>('contended', 'broken') },
);

export const scenario: fc.Arbitrary<Scenario> = fc.record({ request: requestSpec, upstream, ssm, lock });

// ---------------------------------------------------------------- turning specs into events

const TEST_ACCOUNT_ID = '111122223333';
export const CALLER = 'arn:aws:sts::111122223333:assumed-role/webhook-admin/property-session';

function identityOf(kind: IdentityKind): { userArn: string | null; caller: string | null } | undefined {
  switch (kind) {
    case 'arn':
      return { userArn: CALLER, caller: 'AROAEXAMPLE:property-session' };
    case 'caller-only':
      return { userArn: null, caller: 'AIDAEXAMPLECALLER' };
    case 'nulls':
      return { userArn: null, caller: null };
    case 'empty':
      return { userArn: '', caller: '' };
    case 'blank':
      return { userArn: '   ', caller: '\t' };
    default:
      return undefined;
  }
}

export function hasCaller(kind: IdentityKind): boolean {
  return kind === 'arn' || kind === 'caller-only';
}

export function buildEvent(spec: RequestSpec, currentEtag: string, requestId: string): APIGatewayProxyEvent {
  const headers =
    spec.headers === null
      ? null
      : Object.fromEntries(
          spec.headers.map(([key, value]) => [key, value.replaceAll(CURRENT_ETAG, currentEtag)]),
        );
  const who = identityOf(spec.identity);
  const built = toApiGatewayEvent({
    method: spec.method,
    url: '/',
    headers: headers ?? {},
    body: spec.body,
    isBase64Encoded: spec.isBase64Encoded,
    identity: who === undefined ? null : { ...who, accountId: TEST_ACCOUNT_ID },
    requestId,
    stage: 'test',
    accountId: TEST_ACCOUNT_ID,
    apiId: 'api123',
    sourceIp: '10.0.0.1',
  });
  // The spec's method, path and resource as generated, not normalized: odd ones are what cases are about.
  const { identity, ...contextWithoutIdentity } = built.requestContext;
  const requestContext = {
    ...contextWithoutIdentity,
    httpMethod: spec.method,
    path: `/test${spec.path}`,
    resourcePath: spec.path,
    ...(spec.identity === 'no-identity' ? {} : { identity }),
  };
  const { requestContext: _built, ...withoutContext } = built;
  const event = {
    ...withoutContext,
    resource: spec.resource === 'same' ? spec.path : spec.resource,
    path: spec.path,
    httpMethod: spec.method,
    headers: headers === null ? null : built.headers,
    multiValueHeaders: headers === null ? null : built.multiValueHeaders,
    ...(spec.identity === 'no-request-context' ? {} : { requestContext }),
  };
  // Deliberately looser than the type: API Gateway misconfigurations and tests send such events.
  return event as unknown as APIGatewayProxyEvent;
}

let contexts = 0;

export function lambdaContextFor(remainingMs: number): Context {
  contexts += 1;
  return createLambdaContext({
    timeoutMs: remainingMs,
    requestId: `lambda-${contexts}`,
    functionName: 'affix-webhook-config-property',
    region: 'eu-west-1',
    accountId: TEST_ACCOUNT_ID,
  });
}

/** A plain, valid `GET /client` from an IAM caller; `overrides` change what a case is about. */
export function plainRequest(overrides: Partial<RequestSpec> = {}): RequestSpec {
  return {
    method: 'GET',
    path: '/client',
    resource: 'same',
    headers: [],
    body: null,
    isBase64Encoded: false,
    identity: 'arn',
    remainingMs: 15_000,
    secrets: [],
    canaries: [],
    ...overrides,
  };
}
