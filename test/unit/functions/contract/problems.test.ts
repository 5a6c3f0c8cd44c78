/**
 * The problem catalogue: every slug has a status that means what it says (RFC 9110), a title and a
 * when text; every route can answer something; the scopes derive from the route table's properties.
 */
import { describe, expect, it } from 'vitest';
import { GATEWAY_PROBLEMS } from '../../../../functions/contract/gateway-responses.ts';
import {
  PROBLEM_SLUGS,
  PROBLEMS,
  type ProblemSlug,
  problemDefinition,
  RETRY_AFTER_PROBLEMS,
  ROUTE_PROBLEMS,
  routeProblems,
  UNROUTED_PROBLEMS,
} from '../../../../functions/contract/problems.ts';
import { ROUTE_KEYS, ROUTES, routeKeyOf, takesRawBody } from '../../../../functions/contract/routes.ts';
import { ProblemError, problemDocument } from '../../../../functions/core/domain/problems.ts';

/** Problems about Affix, the upstream: a gateway-class status (502/504) or Affix's own meaning. */
const upstreamSlugs = PROBLEM_SLUGS.filter((slug) => slug.startsWith('upstream-'));

describe('the problem catalogue', () => {
  it.each(PROBLEM_SLUGS)('%s has a status, a title and a when text', (slug) => {
    const problem = problemDefinition(slug);
    expect(Number.isInteger(problem.status)).toBe(true);
    expect(problem.status >= 400 && problem.status <= 599).toBe(true);
    expect(problem.title.trim().length).toBeGreaterThan(0);
    expect(problem.when.trim().length).toBeGreaterThan(10);
    // A when text ends a sentence; one slug per type.
    expect(problem.when).toMatch(/[.`)]$/);
    expect(slug).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it('uses statuses by their RFC 9110 meaning', () => {
    // The caller's fault is 4xx, ours or Affix's 5xx, except where Affix's answer is about the request.
    const clientErrors: ProblemSlug[] = [
      'validation-failed',
      'invalid-cursor',
      'malformed-json',
      'json-too-deep',
      'forbidden',
      'not-found',
      'method-not-allowed',
      'would-lock-out',
      'precondition-failed',
      'payload-too-large',
      'unsupported-media-type',
      'signature-mismatch',
    ];
    for (const slug of clientErrors) expect(PROBLEMS[slug].status, slug).toBeLessThan(500);
    expect(PROBLEMS['method-not-allowed'].status).toBe(405);
    expect(PROBLEMS['precondition-failed'].status).toBe(412);
    expect(PROBLEMS['payload-too-large'].status).toBe(413);
    expect(PROBLEMS['unsupported-media-type'].status).toBe(415);
    expect(PROBLEMS.internal.status).toBe(500);
    // Affix failing us is a bad gateway or a gateway timeout; its 400/409/429 keep their 4xx meaning.
    for (const slug of upstreamSlugs) {
      const { status } = PROBLEMS[slug];
      expect([409, 422, 429, 502, 504], slug).toContain(status);
    }
    expect(PROBLEMS['upstream-timeout'].status).toBe(504);
  });

  it('answers Retry-After exactly with 429 and 503 problems (RFC 9110 section 10.2.3)', () => {
    const withRetryStatus = PROBLEM_SLUGS.filter((slug) => [429, 503].includes(PROBLEMS[slug].status));
    // credentials-unavailable: SSM's recovery time is unknown, so no Retry-After is promised.
    expect([...RETRY_AFTER_PROBLEMS].sort()).toEqual(
      withRetryStatus.filter((slug) => slug !== 'credentials-unavailable').sort(),
    );
    for (const slug of RETRY_AFTER_PROBLEMS) expect(PROBLEMS[slug].when).toContain('Retry-After');
  });

  it('says, for upstream-rate-limited, that a recorded back-off answers without calling Affix', () => {
    const { when } = PROBLEMS['upstream-rate-limited'];
    expect(when).toContain('after retries');
    expect(when).toContain('has not passed yet');
    expect(when).toContain('no Affix request is made');
    expect(when).toContain('`Retry-After` is the time left');
  });

  it('shares no slug with API Gateway answers (one type, one meaning)', () => {
    const gateway = new Set(GATEWAY_PROBLEMS.map((problem) => problem.slug));
    for (const slug of PROBLEM_SLUGS) expect(gateway.has(slug), slug).toBe(false);
  });

  it('is what the function answers with: status and title of every ProblemError come from it', () => {
    for (const slug of PROBLEM_SLUGS) {
      const document = problemDocument(new ProblemError(slug, 'detail'), 'req-1');
      expect(document).toMatchObject({ status: PROBLEMS[slug].status, title: PROBLEMS[slug].title });
      expect(document.type).toBe(`urn:affix-webhook-config:problem:${slug}`);
    }
  });
});

describe("routes' problems, derived from route properties", () => {
  it.each(ROUTE_KEYS)('%s can answer at least the every-route problems', (key) => {
    const problems = routeProblems(key);
    expect(problems.length).toBeGreaterThan(0);
    for (const slug of PROBLEM_SLUGS.filter((s) => problemDefinition(s).scope === 'every-route')) {
      expect(problems).toContain(slug);
    }
    expect(ROUTE_PROBLEMS[key]).toEqual(problems);
  });

  it('gives writes the lease and If-Match problems, and reads none of them', () => {
    for (const route of ROUTES) {
      const problems = routeProblems(routeKeyOf(route));
      for (const slug of ['write-contention', 'write-lock-unavailable', 'precondition-failed'] as const) {
        expect(problems.includes(slug), `${routeKeyOf(route)} ${slug}`).toBe(route.writes);
      }
    }
  });

  it('gives body routes the size and media-type checks, JSON routes the parser problems, raw routes the signature', () => {
    for (const route of ROUTES) {
      const key = routeKeyOf(route);
      const problems = routeProblems(key);
      const hasBody = 'mediaTypes' in route;
      expect(problems.includes('payload-too-large'), key).toBe(hasBody);
      expect(problems.includes('unsupported-media-type'), key).toBe(hasBody);
      expect(problems.includes('malformed-json'), key).toBe(hasBody && !takesRawBody(route));
      expect(problems.includes('json-too-deep'), key).toBe(hasBody && !takesRawBody(route));
      expect(problems.includes('signature-mismatch'), key).toBe(takesRawBody(route));
    }
  });

  it('lists every slug under some route, or as unrouted, never both', () => {
    const routed = new Set(Object.values(ROUTE_PROBLEMS).flat());
    expect(UNROUTED_PROBLEMS).toEqual(['not-found', 'method-not-allowed']);
    for (const slug of UNROUTED_PROBLEMS) expect(routed.has(slug)).toBe(false);
    expect([...routed, ...UNROUTED_PROBLEMS].sort()).toEqual([...PROBLEM_SLUGS].sort());
  });

  it('gives the Affix and SSM problems to the routes that ask Affix only', () => {
    for (const route of ROUTES) {
      const problems = routeProblems(routeKeyOf(route));
      for (const slug of [...upstreamSlugs, 'credentials-unavailable' as const]) {
        expect(problems.includes(slug), `${routeKeyOf(route)} ${slug}`).toBe(route.callsAffix);
      }
    }
  });

  it('gives GET /client/changes exactly its own problems: the caller guard, the query, the cursor, internal', () => {
    expect(routeProblems('GET /client/changes')).toEqual([
      'validation-failed',
      'invalid-cursor',
      'forbidden',
      'internal',
    ]);
    expect(PROBLEMS['invalid-cursor']).toMatchObject({
      status: 400,
      title: 'Cursor was not issued by this API',
    });
    const withCursor = ROUTE_KEYS.filter((key) => routeProblems(key).includes('invalid-cursor'));
    expect(withCursor).toEqual(['GET /client/changes']);
  });

  it('keeps the lock-out guard to the secrets route', () => {
    const with_ = ROUTE_KEYS.filter((key) => routeProblems(key).includes('would-lock-out'));
    expect(with_.map((key) => ROUTES.find((route) => routeKeyOf(route) === key)?.operationId)).toEqual([
      'replaceSecrets',
    ]);
  });
});
