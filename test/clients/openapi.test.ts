/**
 * openapi.json: committed and current, valid OpenAPI 3.1, and saying what the handler's valibot
 * schemas say: bodies valid per valibot validate against the generated JSON Schema and invalid ones
 * do not (where JSON Schema can express the rule; the known differences are pinned below), every
 * problem slug is documented, and the response schemas accept what the handler's builders produce.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import fc from 'fast-check';
import * as v from 'valibot';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClientConfigClient } from '../../clients/index.ts';
import { GATEWAY_PROBLEMS, gatewayProblemDocument } from '../../functions/contract/gateway-responses.ts';
import { RETRY_AFTER_PROBLEMS } from '../../functions/contract/problems.ts';
import { ROUTES, routeKeyOf, routeOf } from '../../functions/contract/routes.ts';
import type { RouteKey } from '../../functions/core/adapters/middlewares.ts';
import { toPublicClient } from '../../functions/core/domain/client-state.ts';
import {
  PROBLEMS,
  ProblemError,
  type ProblemSlug,
  problemDocument,
} from '../../functions/core/domain/problems.ts';
import {
  PatchClientRequestSchema,
  ReplaceSecretsRequestSchema,
} from '../../functions/core/domain/schemas.ts';
import {
  buildOpenApiDocument,
  OPENAPI_PATH,
  problemType,
  ROUTE_PROBLEMS,
  renderOpenApiJson,
  UNROUTED_PROBLEMS,
} from '../../scripts/openapi.ts';

type Json = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: walking a parsed JSON document
type Doc = any;

const committed = readFileSync(OPENAPI_PATH, 'utf8');
const doc: Doc = JSON.parse(committed);
const SLUGS = Object.keys(PROBLEMS) as ProblemSlug[];

const OPERATIONS: Record<RouteKey, { path: string; method: string }> = {
  'GET /client': { path: '/client', method: 'get' },
  'PATCH /client': { path: '/client', method: 'patch' },
  'PUT /client/secrets': { path: '/client/secrets', method: 'put' },
  'POST /webhooks/verify': { path: '/webhooks/verify', method: 'post' },
  'GET /client/changes': { path: '/client/changes', method: 'get' },
};
/** The operations whose 200 is the client with its ETag. */
const CLIENT_ROUTES: readonly RouteKey[] = ['GET /client', 'PATCH /client', 'PUT /client/secrets'];
const operationOf = (route: RouteKey) => doc.paths[OPERATIONS[route].path][OPERATIONS[route].method];

/** A component (or any schema of the document) as a standalone 2020-12 schema with its references. */
function standalone(schema: unknown): Json {
  const text = JSON.stringify({ ...(schema as Json), $defs: doc.components.schemas });
  return JSON.parse(text.replaceAll('#/components/schemas/', '#/$defs/')) as Json;
}

let ajv: Ajv2020;
const compiled = new Map<string, ValidateFunction>();
function validatorFor(name: string): ValidateFunction {
  let validate = compiled.get(name);
  if (validate === undefined) {
    validate = ajv.compile(standalone({ $ref: `#/components/schemas/${name}` }));
    compiled.set(name, validate);
  }
  return validate;
}

beforeAll(() => {
  // Strict: an unknown keyword or a malformed schema in the document is an error here.
  ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormatsPlugin.default(ajv);
});

describe('openapi.json', () => {
  it('is what `npm run openapi` writes (run it after changing schemas, problems or the script)', () => {
    expect(committed, 'openapi.json is stale: run `npm run openapi`').toBe(renderOpenApiJson());
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(committed) as Json);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has only valid JSON Schema 2020-12 components (Ajv, strict)', () => {
    for (const name of Object.keys(doc.components.schemas)) expect(() => validatorFor(name)).not.toThrow();
  });

  it('documents every problem slug: under the operations that can answer with it, or as unrouted', () => {
    for (const slug of SLUGS) expect(committed).toContain(`"${problemType(slug)}"`);
    const routed = new Set(Object.values(ROUTE_PROBLEMS).flat());
    for (const slug of UNROUTED_PROBLEMS) expect(routed.has(slug)).toBe(false);
    expect([...routed, ...UNROUTED_PROBLEMS].sort()).toEqual([...SLUGS].sort());
    expect(doc.components.schemas.ProblemType.oneOf.map((entry: Json) => entry.const)).toEqual([
      ...SLUGS.map(problemType),
      ...GATEWAY_PROBLEMS.map((problem) => `urn:affix-webhook-config:problem:${problem.slug}`),
    ]);
  });

  it.each(Object.keys(OPERATIONS) as RouteKey[])(
    '%s lists each of its problems under its status, and nothing else',
    (route) => {
      const documented: string[] = [];
      const gatewayDocumented: string[] = [];
      for (const [status, response] of Object.entries(operationOf(route).responses) as [string, Doc][]) {
        const problem = response.content?.['application/problem+json'];
        if (problem === undefined) continue;
        const [, narrowing] = problem.schema.allOf;
        expect(narrowing.properties.status.const).toBe(Number(status));
        for (const type of narrowing.properties.type.enum as string[]) {
          const slug = type.replace('urn:affix-webhook-config:problem:', '');
          const gateway = GATEWAY_PROBLEMS.find((entry) => entry.slug === slug);
          expect(gateway?.status ?? PROBLEMS[slug as ProblemSlug].status).toBe(Number(status));
          expect(response.description).toContain(`\`${slug}\``);
          (gateway ? gatewayDocumented : documented).push(slug);
        }
      }
      expect(documented.sort()).toEqual([...ROUTE_PROBLEMS[route]].sort());
      // Every Gateway Response with a fixed status, answered by API Gateway, under every operation.
      expect(gatewayDocumented.sort()).toEqual(
        GATEWAY_PROBLEMS.filter((entry) => entry.status !== undefined)
          .map((entry) => entry.slug)
          .sort(),
      );
    },
  );

  it('describes SigV4 (IAM) security, ETag, If-Match, Retry-After and the accepted media types', () => {
    expect(doc.components.securitySchemes.sigv4).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
    for (const route of Object.keys(OPERATIONS) as RouteKey[]) {
      const operation = operationOf(route);
      expect(operation.security).toEqual([{ sigv4: [] }]);
      expect(operation.responses['429'].headers['Retry-After']).toBeDefined();
      expect(Object.keys(operation.responses['403'].content)).toEqual(['application/problem+json']);
      expect(operation.responses['403'].description).toContain('`missing-signature`');
      if (!CLIENT_ROUTES.includes(route)) continue;
      expect(operation.responses['200'].headers.ETag).toEqual({ $ref: '#/components/headers/ETag' });
      if (route !== 'GET /client') {
        expect(operation.parameters).toEqual([{ $ref: '#/components/parameters/If-Match' }]);
      }
    }
    const verify = operationOf('POST /webhooks/verify');
    expect(verify.parameters).toEqual([{ $ref: '#/components/parameters/X-Affix-Api-Signature' }]);
    expect(Object.keys(verify.requestBody.content)).toEqual(['*/*']);
    expect(verify.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/WebhookVerification',
    });
    expect(doc.components.headers.ETag.required).toBe(true);
    expect(doc.components.parameters['If-Match']).toMatchObject({ in: 'header', name: 'If-Match' });
    expect(Object.keys(operationOf('PATCH /client').requestBody.content).sort()).toEqual([
      'application/json',
      'application/merge-patch+json',
    ]);
    expect(Object.keys(operationOf('PUT /client/secrets').requestBody.content)).toEqual(['application/json']);
    expect(operationOf('PATCH /client').responses['415'].headers['Accept-Patch']).toBeDefined();
  });

  it("names its operations after the typed client's methods", () => {
    const client = createClientConfigClient({
      baseUrl: 'https://api.example.com/dev',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const operationIds = (Object.keys(OPERATIONS) as RouteKey[]).map(
      (route) => operationOf(route).operationId,
    );
    expect(operationIds.sort()).toEqual(Object.keys(client).sort());
  });

  it('keeps its request examples valid per the handler schemas', () => {
    for (const [route, schema] of [
      ['PATCH /client', PatchClientRequestSchema],
      ['PUT /client/secrets', ReplaceSecretsRequestSchema],
    ] as const) {
      for (const media of Object.values(operationOf(route).requestBody.content) as Doc[]) {
        for (const example of Object.values(media.examples) as Doc[]) {
          expect(v.safeParse(schema, example.value).success, JSON.stringify(example.value)).toBe(true);
        }
      }
    }
  });
});

const URL_2048 = `https://hooks.example.com/${'a'.repeat(2048 - 'https://hooks.example.com/'.length)}`;
const distinctUris = (n: number) => Array.from({ length: n }, (_, i) => `https://app.example.com/cb/${i}`);

/** [body, valid per valibot]: every row must get the same verdict from the generated JSON Schema. */
const PATCH_BODIES: [unknown, boolean][] = [
  [{ webhook_uri: 'https://hooks.example.com/affix' }, true],
  [{ webhook_uri: null }, true],
  [{ webhook_uri: 'https://hooks.example.com:8443/a/b?x=1' }, true],
  [{ webhook_uri: 'https://hooks.example.com:8443/a/b?x=1#frag' }, false],
  [{ webhook_uri: 'https://hooks.example.com/a b' }, false],
  [{ webhook_uri: 'https://hooks.example.com/a\tb' }, false],
  [{ webhook_uri: 'https://attacker\\@hooks.example.com/' }, false],
  [{ redirect_uris: ['http://0177.0.0.1/cb'] }, false],
  [{ redirect_uris: ['http://localhost\\@evil.example/cb'] }, false],
  [{ name: '😀'.repeat(200) }, true],
  [{ name: '😀'.repeat(201) }, false],
  [{ webhook_uri: URL_2048 }, true],
  [{ name: 'Payroll sync' }, true],
  [{ name: '  padded  ' }, true],
  [{ name: 'x'.repeat(200), webhook_uri: null, redirect_uris: distinctUris(20) }, true],
  [
    {
      redirect_uris: [
        'https://app.example.com/cb',
        'http://localhost:3000/cb',
        'http://127.0.0.1/cb',
        'http://[::1]:8080/cb',
      ],
    },
    true,
  ],
  [{}, false],
  [{ name: '' }, false],
  [{ name: '   ' }, false],
  [{ name: '\t\n' }, false],
  [{ name: 'x'.repeat(201) }, false],
  [{ name: 42 }, false],
  [{ webhook_uri: 'http://hooks.example.com/affix' }, false],
  [{ webhook_uri: 'https://user:pw@hooks.example.com/affix' }, false],
  [{ webhook_uri: 'https://user@hooks.example.com/affix' }, false],
  [{ webhook_uri: 'ftp://hooks.example.com/affix' }, false],
  [{ webhook_uri: 'hooks.example.com/affix' }, false],
  [{ webhook_uri: '' }, false],
  [{ webhook_uri: `${URL_2048}a` }, false],
  [{ webhook_uri: 42 }, false],
  [{ redirect_uris: [] }, false],
  [{ redirect_uris: ['https://app.example.com/cb', 'https://app.example.com/cb'] }, false],
  [{ redirect_uris: distinctUris(21) }, false],
  [{ redirect_uris: ['http://app.example.com/cb'] }, false],
  [{ redirect_uris: ['https://app.example.com/cb', 7] }, false],
  [{ redirect_uris: 'https://app.example.com/cb' }, false],
  [{ client_secret: ['x'.repeat(16)] }, false],
  [{ webhook: 'https://hooks.example.com/affix' }, false],
  [{ name: 'ok', extra: 1 }, false],
  [[], false],
  [null, false],
  ['text', false],
];

const SECRET = 'sandbox-secret-aaaaaaaaaaaaaaaa';
const SECRETS_BODIES: [unknown, boolean][] = [
  [{ client_secret: [SECRET] }, true],
  [{ client_secret: [SECRET, 'x'.repeat(256), '!~'.repeat(8), 'b'.repeat(16), 'c'.repeat(16)] }, true],
  [{ client_secret: [] }, false],
  [{ client_secret: [SECRET, SECRET] }, false],
  [{ client_secret: ['x'.repeat(15)] }, false],
  [{ client_secret: ['x'.repeat(257)] }, false],
  [{ client_secret: ['has a space in it!!'] }, false],
  [{ client_secret: ['tab\tinside-the-secret'] }, false],
  [{ client_secret: ['ünïcödé-secret-000000'] }, false],
  [
    {
      client_secret: [SECRET, 'b'.repeat(16), 'c'.repeat(16), 'd'.repeat(16), 'e'.repeat(16), 'f'.repeat(16)],
    },
    false,
  ],
  [{ client_secret: SECRET }, false],
  [{ client_secret: [SECRET], name: 'x' }, false],
  [{}, false],
];

describe('the generated JSON Schemas agree with the valibot schemas', () => {
  it.each(PATCH_BODIES)('PatchClientRequest %j: valid=%s', (body, valid) => {
    expect(v.safeParse(PatchClientRequestSchema, body).success).toBe(valid);
    expect(validatorFor('PatchClientRequest')(body)).toBe(valid);
  });

  it.each(SECRETS_BODIES)('ReplaceSecretsRequest %j: valid=%s', (body, valid) => {
    expect(v.safeParse(ReplaceSecretsRequestSchema, body).success).toBe(valid);
    expect(validatorFor('ReplaceSecretsRequest')(body)).toBe(valid);
  });

  it('ReplaceSecretsRequest: both give the same verdict on random secret lists', () => {
    const validate = validatorFor('ReplaceSecretsRequest');
    const pool = ['sandbox-secret-aaaaaaaaaaaaaaaa', 'rotated-secret-bbbbbbbbbbbbbbbb'];
    const secret = fc.oneof(
      fc.constantFrom(...pool),
      fc.string({
        unit: fc.integer({ min: 0x1f, max: 0x7f }).map((c) => String.fromCharCode(c)),
        maxLength: 300,
      }),
      fc.string({ unit: 'grapheme', minLength: 10, maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.array(secret, { maxLength: 7 }), (list) => {
        const body = { client_secret: list };
        expect(validate(body)).toBe(v.safeParse(ReplaceSecretsRequestSchema, body).success);
      }),
      { numRuns: 500 },
    );
  });

  // Where JSON Schema cannot say what valibot checks; the descriptions in the document say so.
  it.each([
    [
      'a padded name whose trimmed form fits (maxLength counts the padding)',
      { name: ` ${'x'.repeat(199)} ` },
      true,
    ],
    [
      'an upper-case scheme (the server parses URLs; the pattern is the canonical form)',
      { webhook_uri: 'HTTPS://hooks.example.com/' },
      true,
    ],
    [
      'an IPv4 host in hex (the server refuses what a parser would rewrite; the pattern checks characters)',
      { webhook_uri: 'https://0x7f.1/' },
      false,
    ],
    ['an invisible-only name (the pattern checks for one non-space character)', { name: '\u200b' }, false],
  ])('known difference: %s', (_name, body, validPerValibot) => {
    expect(v.safeParse(PatchClientRequestSchema, body).success).toBe(validPerValibot);
    expect(validatorFor('PatchClientRequest')(body)).toBe(!validPerValibot);
  });
});

describe('the response schemas accept what the handler answers', () => {
  it('PublicClient: what toPublicClient makes of Affix clients', () => {
    const validate = validatorFor('PublicClient');
    for (const webhook_uri of ['https://hooks.example.com/affix', null]) {
      const client = toPublicClient({
        client_id: 'c-1',
        client_secret: ['short', 'sandbox-secret-aaaaaaaaaaaaaaaa'],
        name: 'App',
        redirect_uris: [],
        webhook_uri,
      });
      expect(validate(client), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(validate({ client_id: 'c-1', name: 'App', redirect_uris: [], client_secret: [] })).toBe(false);
  });

  it('each route and status accepts exactly the problem documents it lists', () => {
    for (const route of Object.keys(OPERATIONS) as RouteKey[]) {
      for (const [status, response] of Object.entries(operationOf(route).responses) as [string, Doc][]) {
        const media = response.content?.['application/problem+json'];
        if (media === undefined) continue;
        const validate = ajv.compile(standalone(media.schema));
        for (const slug of SLUGS) {
          const errors = slug === 'validation-failed' ? [{ pointer: '/name', detail: 'bad' }] : undefined;
          const body = problemDocument(new ProblemError(slug, 'detail', { errors }), 'req-1');
          const listed = PROBLEMS[slug].status === Number(status) && ROUTE_PROBLEMS[route].includes(slug);
          expect(validate(body), `${route} ${status} ${slug}`).toBe(listed);
        }
      }
    }
  });

  it("Problem: API Gateway's Gateway Response documents (from the contract) validate", () => {
    const validate = validatorFor('Problem');
    for (const problem of GATEWAY_PROBLEMS.filter((entry) => entry.status !== undefined)) {
      expect(validate(gatewayProblemDocument(problem, 'req-1')), problem.slug).toBe(true);
    }
    expect(doc.components.schemas.GatewayError).toBeUndefined();
  });

  it("has exactly the route table's operations: path, method, operationId and media types", () => {
    const operations = Object.entries(doc.paths as Record<string, Record<string, Doc>>).flatMap(
      ([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({
          key: `${method.toUpperCase()} ${path}`,
          operationId: op.operationId,
          media: op.requestBody === undefined ? undefined : Object.keys(op.requestBody.content),
        })),
    );
    expect(operations).toEqual(
      ROUTES.map((route) => ({
        key: routeKeyOf(route),
        operationId: route.operationId,
        media: 'mediaTypes' in route ? [...route.mediaTypes] : undefined,
      })),
    );
  });

  it("documents GET /client's shared cache: Cache-Control: no-cache asks for Affix, Age and Cache-Control answer", () => {
    const get = doc.paths[routeOf('getClient').path].get;
    expect(get.parameters).toEqual([{ $ref: '#/components/parameters/Cache-Control' }]);
    expect(doc.components.parameters['Cache-Control']).toMatchObject({ in: 'header', example: 'no-cache' });
    expect(Object.keys(get.responses['200'].headers).sort()).toEqual(['Age', 'Cache-Control', 'ETag']);
    expect(get.description).toContain('CLIENT_CACHE_MAX_AGE_SECONDS');
    // Writes answer what they wrote, never a cached view.
    for (const id of ['updateClient', 'replaceSecrets'] as const) {
      const route = routeOf(id);
      const op = doc.paths[route.path][route.method.toLowerCase()];
      expect(op.responses['200'].headers.Age, id).toBeUndefined();
      expect(op.responses['200'].headers['Cache-Control']).toEqual({
        $ref: '#/components/headers/Cache-Control',
      });
    }
  });

  it("describes each problem with the catalogue's when text, and Retry-After where the catalogue says", () => {
    for (const route of Object.keys(OPERATIONS) as RouteKey[]) {
      for (const slug of ROUTE_PROBLEMS[route]) {
        const response = operationOf(route).responses[String(PROBLEMS[slug].status)];
        expect(response.description).toContain(
          `\`${slug}\` (${PROBLEMS[slug].title}): ${PROBLEMS[slug].when}`,
        );
        if (RETRY_AFTER_PROBLEMS.includes(slug)) expect(response.headers['Retry-After'], slug).toBeDefined();
      }
    }
  });

  it('builds the same document twice (no timestamps or random order)', () => {
    expect(JSON.stringify(buildOpenApiDocument())).toBe(JSON.stringify(buildOpenApiDocument()));
  });
});
