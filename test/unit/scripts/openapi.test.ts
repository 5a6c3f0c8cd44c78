/**
 * The OpenAPI document builder of `npm run openapi` alone (not the file write): every operation and
 * problem comes from the contract, per status, with the headers the catalogue calls for. The committed
 * file and its validity against OpenAPI and JSON Schema are checked in test/clients/openapi.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_PROBLEMS, PROBLEM_TYPE_PREFIX } from '../../../functions/contract/gateway-responses.ts';
import {
  PROBLEM_SLUGS,
  PROBLEMS,
  RETRY_AFTER_PROBLEMS,
  ROUTE_PROBLEMS,
  UNROUTED_PROBLEMS,
} from '../../../functions/contract/problems.ts';
import { ROUTES, type RouteDefinition, routeKeyOf } from '../../../functions/contract/routes.ts';
import {
  buildOpenApiDocument,
  GATEWAY_ANSWERS,
  GATEWAY_STATUSES,
  mediaTypesOf,
  problemType,
  renderOpenApiJson,
} from '../../../scripts/openapi.ts';

interface Response {
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: { allOf?: { properties?: { type?: { enum?: string[] } } }[] } }>;
}
interface Operation {
  operationId: string;
  security: unknown[];
  responses: Record<string, Response>;
  requestBody?: { content: Record<string, unknown> };
}
interface Document {
  openapi: string;
  info: { version: string; description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { oneOf?: { const: string }[] }> };
}

const document = buildOpenApiDocument() as unknown as Document;
const operationOf = (route: (typeof ROUTES)[number]) =>
  document.paths[route.path]?.[route.method.toLowerCase()] as Operation;
/** The problem types a response lists (its `type` enum), sorted (a copy: the document stays as built). */
const typesOf = (response: Response | undefined) =>
  [
    ...(response?.content?.['application/problem+json']?.schema?.allOf?.[1]?.properties?.type?.enum ?? []),
  ].sort();

describe('the gateway answers', () => {
  it("are the contract's gateway problems with a fixed status, statuses sorted and unique", () => {
    expect(GATEWAY_ANSWERS.map((problem) => problem.slug)).toEqual(
      GATEWAY_PROBLEMS.filter((problem) => problem.status !== undefined).map((problem) => problem.slug),
    );
    expect(GATEWAY_STATUSES).toEqual(
      [...new Set(GATEWAY_ANSWERS.map((problem) => problem.status))].sort((a, b) => a - b),
    );
    expect(GATEWAY_STATUSES).toContain(403);
  });
});

describe('buildOpenApiDocument', () => {
  it('is OpenAPI 3.1 at the version of package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe(pkg.version);
  });

  it('has exactly the operations of the route table, each SigV4-secured with a 200', () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(
        ([method, operation]) => `${method.toUpperCase()} ${path} ${operation.operationId}`,
      ),
    );
    expect(operations.sort()).toEqual(
      ROUTES.map((route) => `${routeKeyOf(route)} ${route.operationId}`).sort(),
    );
    for (const route of ROUTES) {
      expect(operationOf(route).security).toEqual([{ sigv4: [] }]);
      expect(operationOf(route).responses['200']).toBeDefined();
    }
  });

  it("lists, per route and status, exactly the route's problems and API Gateway's answers", () => {
    for (const route of ROUTES) {
      const responses = operationOf(route).responses;
      const expected = new Map<string, string[]>();
      for (const slug of ROUTE_PROBLEMS[routeKeyOf(route)]) {
        const status = String(PROBLEMS[slug].status);
        expected.set(status, [...(expected.get(status) ?? []), problemType(slug)]);
      }
      for (const problem of GATEWAY_ANSWERS) {
        const status = String(problem.status);
        expected.set(status, [...(expected.get(status) ?? []), `${PROBLEM_TYPE_PREFIX}${problem.slug}`]);
      }
      const errorStatuses = Object.keys(responses).filter((status) => status !== '200');
      expect(errorStatuses.sort(), routeKeyOf(route)).toEqual([...expected.keys()].sort());
      for (const [status, types] of expected) {
        expect(typesOf(responses[status]), `${routeKeyOf(route)} ${status}`).toEqual(types.sort());
      }
    }
  });

  it('adds Retry-After where the catalogue says, and Accept-Patch on the PATCH 415', () => {
    for (const route of ROUTES) {
      const key = routeKeyOf(route);
      for (const [status, response] of Object.entries(operationOf(route).responses)) {
        if (status === '200') continue;
        const retries =
          status === '429' ||
          ROUTE_PROBLEMS[key].some(
            (slug) => String(PROBLEMS[slug].status) === status && RETRY_AFTER_PROBLEMS.includes(slug),
          );
        expect('Retry-After' in (response.headers ?? {}), `${key} ${status}`).toBe(retries);
        const acceptPatch = route.method === 'PATCH' && status === '415';
        expect('Accept-Patch' in (response.headers ?? {}), `${key} ${status}`).toBe(acceptPatch);
      }
    }
  });

  it("takes a body's media types from the route table", () => {
    for (const route of ROUTES) {
      const body = operationOf(route).requestBody;
      const media = mediaTypesOf(route.operationId);
      const { mediaTypes }: RouteDefinition = route;
      if (mediaTypes === undefined) {
        expect(body, routeKeyOf(route)).toBeUndefined();
        expect(media).toEqual([]);
      } else {
        expect(Object.keys(body?.content ?? {}), routeKeyOf(route)).toEqual([...mediaTypes]);
        expect(media).toEqual(mediaTypes);
      }
    }
  });

  it('names every problem type, routed or not, in ProblemType and the info table', () => {
    const types = (document.components.schemas.ProblemType?.oneOf ?? []).map((entry) => entry.const);
    expect(types).toEqual([
      ...PROBLEM_SLUGS.map(problemType),
      ...GATEWAY_PROBLEMS.map((problem) => `${PROBLEM_TYPE_PREFIX}${problem.slug}`),
    ]);
    for (const slug of [...UNROUTED_PROBLEMS, ...PROBLEM_SLUGS])
      expect(document.info.description).toContain(`\`${slug}\``);
    expect(problemType(PROBLEM_SLUGS[0] as (typeof PROBLEM_SLUGS)[number])).toBe(
      `${PROBLEM_TYPE_PREFIX}${PROBLEM_SLUGS[0]}`,
    );
  });
});

describe('renderOpenApiJson', () => {
  it('is the document as two-space JSON with a final newline, the same on every build', () => {
    // Two builds (the module's and this one): no timestamps or random order between them.
    expect(renderOpenApiJson()).toBe(`${JSON.stringify(document, null, 2)}\n`);
  });
});
