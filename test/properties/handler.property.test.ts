/**
 * Property-based tests over the whole handler (see harness.ts for what is real). Whatever the
 * request (any JSON, deep nesting, huge strings, `__proto__`/`constructor` keys, invalid UTF-8,
 * wrong content types, odd or missing headers, no identity) and however Affix and SSM misbehave:
 * the handler never throws and never answers 500; every answer is a 200 or a problem+json row of
 * the status table; no secret (nor its Base64 or Basic form) reaches a response or a log line; and
 * the next request, warm or in a new container, succeeds.
 *
 * `PROPERTY_RUNS` (default 4,000, as `npm test` runs it) sets the number of generated
 * cases over all properties;
 * `PROPERTY_SEED` replays a failing run (fast-check prints the seed and the path).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { routeDefinition } from '../../functions/contract/routes.ts';
import { resolveRoute } from '../../functions/core/adapters/middlewares.ts';
import { PROBLEMS } from '../../functions/core/domain/problems.ts';
import { CLIENT_ID, initialClient, SECRET_A } from '../support/affix-fixtures.ts';
import { documentedAnswer, toAnswer } from '../support/answers.ts';
import { captureOutput } from '../support/capture.ts';
import { findLeaks } from '../support/leaks.ts';
import {
  acceptedJsonContentType,
  CALLER,
  hasCaller,
  plainRequest,
  type RequestSpec,
  type Scenario,
  scenario,
  unknownPath,
  upstreamStep,
  validSecret,
} from './arbitraries.ts';
import { FAST, type Instruments, prepareRun } from './harness.ts';

const TOTAL_RUNS = Number(process.env.PROPERTY_RUNS ?? 4_000);
const SEED = process.env.PROPERTY_SEED === undefined ? undefined : Number(process.env.PROPERTY_SEED);
/** How the runs are shared out: most go to the everything-at-once property. */
const SHARE = { anything: 0.7, validWrites: 0.1, routes: 0.1, echoes: 0.1 };
const runsOf = (share: number) => Math.ceil(TOTAL_RUNS * share);
const timeoutOf = (share: number) => 60_000 + runsOf(share) * 20;
const parameters = (share: number): fc.Parameters<unknown> => ({
  numRuns: runsOf(share),
  ...(SEED === undefined ? {} : { seed: SEED }),
});

const output = captureOutput();
const instruments: Instruments = {
  logger: new Logger({ serviceName: 'affix-webhook-config' }),
  metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
};
let generatedCases = 0;
/** How often each answer came up in the everything-at-once property: the generators must reach them all. */
const outcomes = new Map<string, number>();
const started = performance.now();

const PATCHABLE = new Set(['name', 'webhook_uri', 'redirect_uris', 'client_secret']);
const WRITE_ROUTES = new Set(['PATCH /client', 'PUT /client/secrets']);
const BEFORE_UPSTREAM = new Set([400, 403, 404, 405, 413, 415]);
/** Refusing one of these is no refused write, so no audit line. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The refusals that can come before the route is known: audited with `route: null`. */
const REFUSED_BEFORE_ROUTING = new Set([403, 404, 405]);
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join();

/** Whether the handler counts this request as a write (audited even when refused): routes say so. */
function isWriteAttempt(request: RequestSpec): boolean {
  try {
    const route = resolveRoute({
      resource: (request.resource === 'same' ? request.path : request.resource) as string,
      path: request.path,
      httpMethod: request.method,
    });
    return routeDefinition(route).writes;
  } catch {
    return !SAFE_METHODS.has(String(request.method).toUpperCase());
  }
}

/** The invariants every answer and the log lines written for it must satisfy. */
function checkAnswer(result: APIGatewayProxyResult | undefined, label: string) {
  if (result === undefined || typeof result !== 'object') throw new Error(`${label}: no result`);
  const answer = toAnswer(result);
  const documented = documentedAnswer(answer);
  if (answer.status === 500) throw new Error(`${label}: answered 500: ${answer.body}`);
  return { answer, documented };
}

function checkLogs(lines: readonly string[], request: RequestSpec | undefined) {
  const audits: Record<string, unknown>[] = [];
  for (const line of lines) {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`a log line is not JSON: ${line.slice(0, 200)}`);
    }
    for (const canary of request?.canaries ?? []) {
      if (line.includes(canary)) throw new Error('a log line carries the caller’s signature or token');
    }
    if (request?.body && request.body.length >= 32 && line.includes(request.body)) {
      throw new Error('a log line carries the raw request body');
    }
    if (entry.message === 'audit') audits.push(entry.audit as Record<string, unknown>);
  }
  if (audits.length > 1) throw new Error(`${audits.length} audit lines for one request`);
  for (const audit of audits) {
    if (audit.route === null) {
      // A write refused before routing (wrong method or path, or no caller): never a safe method.
      if (!REFUSED_BEFORE_ROUTING.has(Number(audit.status)))
        throw new Error(`unrouted audit ${audit.status}`);
      if (SAFE_METHODS.has(String(audit.method))) throw new Error(`audit of a ${String(audit.method)}`);
    } else if (!WRITE_ROUTES.has(String(audit.route))) {
      throw new Error(`audit of route ${String(audit.route)}`);
    }
    for (const field of [...(audit.requestedFields as string[]), ...(audit.changedFields as string[])]) {
      if (!PATCHABLE.has(field)) throw new Error(`the audit line names the field ${field}`);
    }
    const refusedWithoutCaller = audit.caller === null && audit.status === 403;
    if (audit.caller !== CALLER && audit.caller !== 'AIDAEXAMPLECALLER' && !refusedWithoutCaller) {
      throw new Error('audit caller');
    }
  }
  return audits;
}

function checkNoLeaks(texts: readonly string[], secrets: readonly string[]) {
  const leaks = findLeaks(texts, secrets, CLIENT_ID);
  if (leaks.length > 0) {
    const which = leaks.map((leak) => `${leak.form} of secret #${leak.secretIndex}`).join(', ');
    throw new Error(`secret leaked (${which}) in: ${texts.join('\n').slice(0, 2_000)}`);
  }
}

/** Far above any deadline of the harness: an invocation that takes longer hangs. */
const ANSWER_WITHIN_MS = 10_000;

async function invokeSafely(invoke: () => Promise<APIGatewayProxyResult>, label: string) {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${label}: no answer within ${ANSWER_WITHIN_MS} ms`)),
      ANSWER_WITHIN_MS,
    );
  });
  try {
    return await Promise.race([
      invoke().catch((error: unknown) => {
        throw new Error(`${label}: the handler threw ${error instanceof Error ? error.name : typeof error}`);
      }),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function runScenario(s: Scenario): Promise<void> {
  output.clear();
  const run = prepareRun(s, instruments, FAST);
  const result = await invokeSafely(run.invoke, 'request');
  generatedCases += 1;
  const { answer, documented } = checkAnswer(result, 'request');
  const outcome = documented.kind === 'problem' ? documented.slug : documented.kind;
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  const requestLines = [...output.lines];
  const audits = checkLogs(requestLines, s.request);

  if (!hasCaller(s.request.identity)) {
    expect(answer.status).toBe(403);
    // A refused write is audited (without a caller, without values); a refused read is not.
    const write = isWriteAttempt(s.request);
    expect(audits).toHaveLength(write ? 1 : 0);
    if (write) expect(audits[0]).toMatchObject({ caller: null, outcome: 'forbidden', status: 403 });
  }
  if (BEFORE_UPSTREAM.has(answer.status)) {
    // Refused input never reaches Affix, nor SSM.
    expect(run.upstream.requests).toHaveLength(0);
    expect(run.ssm.loads).toBe(0);
  }
  if (documented.kind === 'problem' && ['precondition-failed', 'would-lock-out'].includes(documented.slug)) {
    expect(run.upstream.requests.filter((call) => call.method === 'POST')).toHaveLength(0);
  }
  expect(Object.getOwnPropertyNames(Object.prototype).sort().join()).toBe(PROTOTYPE_KEYS);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();

  // Recovery: with the faults gone, the same container and a new one both answer 200.
  run.upstream.clearFaults();
  run.ssm.faults.length = 0;
  const warm = checkAnswer(await invokeSafely(run.get, 'warm GET'), 'warm GET');
  expect(warm.answer.status, `warm GET after ${answer.status}: ${warm.answer.body}`).toBe(200);
  const cold = checkAnswer(await invokeSafely(run.coldGet, 'cold GET'), 'cold GET');
  expect(cold.answer.status, `cold GET after ${answer.status}: ${cold.answer.body}`).toBe(200);
  checkLogs(output.lines.slice(requestLines.length), undefined);

  checkNoLeaks(
    [answer.body, JSON.stringify(answer.headers), warm.answer.body, cold.answer.body, ...output.lines],
    run.secrets(),
  );
}

describe('the handler under arbitrary input and upstream behaviour', () => {
  it(
    'answers every request in the documented way, leaks nothing, and recovers by itself',
    async () => {
      await fc.assert(fc.asyncProperty(scenario, runScenario), parameters(SHARE.anything));
    },
    timeoutOf(SHARE.anything),
  );

  it(
    'applies a valid PATCH whatever the spelling of an accepted Content-Type, also Base64-encoded',
    async () => {
      const patch = fc
        .record(
          {
            name: fc.constantFrom('Renamed App', '  Trimmed  ', 'ünïcødé ✓'),
            webhook_uri: fc.constantFrom(null, 'https://hooks.example.com/v3'),
            redirect_uris: fc.constantFrom(['https://app.example.com/new'], ['http://localhost:3000/cb']),
          },
          { requiredKeys: [] },
        )
        .filter((value) => Object.keys(value).length > 0);
      const contentType = fc.oneof(
        acceptedJsonContentType,
        fc.constantFrom('application/merge-patch+json', 'Application/Merge-Patch+JSON; charset=utf-8'),
      );
      const headerName = fc.constantFrom('content-type', 'Content-Type', 'CONTENT-TYPE');
      await fc.assert(
        fc.asyncProperty(patch, contentType, headerName, fc.boolean(), async (body, type, header, base64) => {
          output.clear();
          const text = JSON.stringify(body);
          const run = prepareRun(
            {
              request: plainRequest({
                method: 'PATCH',
                headers: [[header, type]],
                body: base64 ? Buffer.from(text).toString('base64') : text,
                isBase64Encoded: base64,
              }),
              upstream: { get: [], post: [] },
              ssm: { rotation: 'none', affixHasBoth: false, faults: [] },
              lock: 'free',
            },
            instruments,
          );
          const result = await invokeSafely(run.invoke, 'PATCH');
          generatedCases += 1;
          const { answer } = checkAnswer(result, 'PATCH');
          expect(answer.status, `${header}: ${JSON.stringify(type)} -> ${answer.body}`).toBe(200);
          if (body.name !== undefined) expect(run.upstream.client.name).toBe(body.name.trim());
          if (body.webhook_uri !== undefined) expect(run.upstream.client.webhook_uri).toBe(body.webhook_uri);
          if (body.redirect_uris !== undefined)
            expect(run.upstream.client.redirect_uris).toEqual(body.redirect_uris);
        }),
        parameters(SHARE.validWrites),
      );
    },
    timeoutOf(SHARE.validWrites),
  );

  it(
    'answers 404 for every unknown path and 405 with the exact Allow list for a wrong method',
    async () => {
      const method = fc.oneof(
        fc.constantFrom('GET', 'PATCH', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'get'),
        fc.string({ maxLength: 8 }),
      );
      const target = fc.oneof(
        unknownPath.map((path) => ({ path, known: false as const })),
        fc.constantFrom('/client', '/client/secrets').map((path) => ({ path, known: true as const })),
      );
      await fc.assert(
        fc.asyncProperty(method, target, fc.boolean(), async (verb, { path, known }, sameResource) => {
          output.clear();
          const run = prepareRun(
            {
              request: plainRequest({ method: verb, path, resource: sameResource ? 'same' : null }),
              upstream: { get: [], post: [] },
              ssm: { rotation: 'none', affixHasBoth: false, faults: [] },
              lock: 'free',
            },
            instruments,
          );
          const result = await invokeSafely(run.invoke, 'route');
          generatedCases += 1;
          const { answer, documented } = checkAnswer(result, 'route');
          const allowed = path === '/client' ? ['GET', 'PATCH'] : ['PUT'];
          if (!known) {
            expect(documented.kind === 'problem' && documented.slug, `${verb} ${JSON.stringify(path)}`).toBe(
              'not-found',
            );
          } else if (!allowed.includes(verb.toUpperCase())) {
            expect(answer.status).toBe(405);
            expect(answer.headers.allow).toBe(allowed.join(', '));
          } else if (verb.toUpperCase() === 'GET') {
            expect(answer.status).toBe(200);
          }
        }),
        parameters(SHARE.routes),
      );
    },
    timeoutOf(SHARE.routes),
  );

  it(
    'never passes on a secret that Affix echoes back, in any form, on any route',
    async () => {
      const secrets = fc.uniqueArray(
        validSecret.filter((secret) => secret !== SECRET_A),
        { minLength: 1, maxLength: 3 },
      );
      const echo = upstreamStep.filter((step) => step.kind === 'echo-400');
      const route = fc.constantFrom('GET', 'PATCH', 'PUT');
      await fc.assert(
        fc.asyncProperty(route, secrets, echo, async (verb, extra, step) => {
          output.clear();
          const body =
            verb === 'PUT'
              ? JSON.stringify({ client_secret: [SECRET_A, ...extra] })
              : verb === 'PATCH'
                ? JSON.stringify({ name: 'Echo Test' })
                : null;
          // A PATCH sends the secrets the client holds; a PUT sends the new list.
          const client = initialClient();
          if (verb !== 'PUT') client.client_secret = [SECRET_A, ...extra];
          const run = prepareRun(
            {
              request: {
                method: verb,
                path: verb === 'PUT' ? '/client/secrets' : '/client',
                resource: 'same',
                headers: body === null ? [] : [['content-type', 'application/json']],
                body,
                isBase64Encoded: false,
                identity: 'arn',
                remainingMs: 15_000,
                secrets: extra,
                canaries: [],
              },
              upstream: verb === 'GET' ? { get: [step], post: [] } : { get: [], post: [step] },
              ssm: { rotation: 'none', affixHasBoth: false, faults: [] },
              lock: 'free',
            },
            instruments,
          );
          run.upstream.setClient(client);
          const result = await invokeSafely(run.invoke, 'echo');
          generatedCases += 1;
          const { answer, documented } = checkAnswer(result, 'echo');
          expect(documented.kind === 'problem' && documented.slug, answer.body).toBe('upstream-rejected');
          checkNoLeaks([answer.body, ...output.lines], run.secrets());
        }),
        parameters(SHARE.echoes),
      );
    },
    timeoutOf(SHARE.echoes),
  );
});

afterAll(() => {
  const seconds = (performance.now() - started) / 1_000;
  const seen = [...outcomes].sort(([, a], [, b]) => b - a).map(([slug, count]) => `${slug} ${count}`);
  console.info(`property suite: ${generatedCases} generated cases in ${seconds.toFixed(1)} s`);
  console.info(`answers of the first property: ${seen.join(', ')}`);
  expect(generatedCases).toBeGreaterThanOrEqual(TOTAL_RUNS);
  if (TOTAL_RUNS >= 10_000) {
    // Every row of the table but `internal` is reached, so no generator has silently gone narrow.
    const expected = Object.keys(PROBLEMS).filter((slug) => slug !== 'internal');
    expect(expected.filter((slug) => !outcomes.has(slug))).toEqual([]);
    expect(outcomes.get('success') ?? 0).toBeGreaterThan(runsOf(SHARE.anything) * 0.03);
    expect(outcomes.get('verified') ?? 0).toBeGreaterThan(0);
  }
});
