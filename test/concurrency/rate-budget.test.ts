/**
 * Acceptance of the rate budget: the rate budget through the local pool of execution environments (each its own
 * module instance, as in Lambda), the sandbox answering after 50 ms, and the state table in the local
 * DynamoDB engine. Counted with `sandbox.requests` (every request that reached the sandbox).
 *
 * Order matters: the back-off case runs last (it leaves a 60 s back-off behind).
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { METRIC } from '../../functions/contract/telemetry.ts';
import { LEASE_KEY } from '../../functions/core/adapters/dynamodb-write-lock.ts';
import { captureOutput } from '../support/capture.ts';
import type { Called } from '../support/http-caller.ts';
import { environmentsOf, freshRound, statusSummary, useConcurrencyStack } from './harness.ts';

const ENVIRONMENTS = 4;
const CALLERS = 20;
const output = captureOutput();
const stackOf = useConcurrencyStack(
  { environments: ENVIRONMENTS, handlerEnv: { CLIENT_CACHE_MAX_AGE_SECONDS: '30' } },
  [],
  output,
);
const NO_CACHE = { 'cache-control': 'no-cache' };

const affixGets = () => stackOf().sandbox.requests.filter((request) => request.method === 'GET').length;
const outsideChangeLines = (from = 0) =>
  output.json(from).filter((line) => line.message === 'outside change') as {
    outsideChange?: { fields?: string[] };
  }[];

async function dropCache(): Promise<void> {
  const { stack, table } = stackOf();
  await table.send(
    new UpdateItemCommand({
      TableName: stack.dynamodb.tableName,
      Key: { pk: { S: LEASE_KEY.pk }, sk: { S: LEASE_KEY.sk } },
      UpdateExpression: 'REMOVE #view',
      ExpressionAttributeNames: { '#view': 'view' },
    }),
  );
}

describe('rate budget across execution environments', () => {
  it(`200 GETs from ${CALLERS} concurrent callers in one cache window: at most one Affix GET per environment`, async () => {
    const run = stackOf();
    freshRound(run, 1);
    await dropCache();
    const from = output.lines.length;
    const results: Called[] = [];
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        for (let index = 0; index < 200 / CALLERS; index += 1)
          results.push(await run.caller.call('GET', '/client'));
      }),
    );
    const summary = statusSummary(results);
    expect(results).toHaveLength(200);
    for (const result of results) expect(result.status, summary).toBe(200);
    const environments = environmentsOf(results);
    expect(environments.size).toBeGreaterThan(1);
    // CACHE: without the shared cache this is 200. A state-store call that misses its time limit on a
    // busy machine is a degraded read the contract allows: it may cost its environment one more GET.
    const unavailable = output
      .json(from)
      .filter((line) => line.message === 'shared state unavailable').length;
    expect(affixGets()).toBeGreaterThan(0);
    expect(affixGets(), `${unavailable} shared-state calls missed their time limit`).toBeLessThanOrEqual(
      environments.size + unavailable,
    );
    for (const result of results) {
      expect(result.headers['cache-control']).toBe('private, max-age=30');
      expect(Number(result.headers.age)).toBeLessThan(30);
      expect(result.headers.etag).toBe(results[0]?.headers.etag);
    }
  }, 60_000);

  it('a no-cache GET costs exactly one Affix GET and answers Age 0', async () => {
    const run = stackOf();
    run.sandbox.resetRequests();
    const from = output.lines.length;
    const result = await run.caller.call('GET', '/client', undefined, NO_CACHE);
    expect(result.status).toBe(200);
    expect(result.headers.age).toBe('0');
    expect(run.sandbox.requests.map((request) => request.method)).toEqual(['GET']);
    // Visible budget: one AffixRequests count (method, outcome) and a cache miss.
    await vi.waitFor(() => {
      const lines = output.json(from);
      expect(lines.filter((line) => line[METRIC.affixRequests] === 1)).toEqual([
        expect.objectContaining({ method: 'GET', outcome: '200' }),
      ]);
      expect(lines.filter((line) => line[METRIC.clientCacheHit] !== undefined)).toEqual([
        expect.objectContaining({ [METRIC.clientCacheHit]: 0 }),
      ]);
    });
  });

  it('a write refreshes the cache, and a PATCH right after a write sees it (no stale merge)', async () => {
    const run = stackOf();
    freshRound(run, 2);
    // Fill the cache with the state before the writes.
    expect((await run.caller.call('GET', '/client', undefined, NO_CACHE)).status).toBe(200);
    const first = await run.caller.call('PATCH', '/client', { name: 'Written first' });
    const second = await run.caller.call('PATCH', '/client', {
      webhook_uri: 'https://hooks.example.com/written-second',
    });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(run.sandbox.client).toMatchObject({
      name: 'Written first',
      webhook_uri: 'https://hooks.example.com/written-second',
    });
    run.sandbox.resetRequests();
    // Every environment now answers the written state from the cache, without an Affix GET.
    const reads = await Promise.all(
      Array.from({ length: ENVIRONMENTS * 2 }, () => run.caller.call('GET', '/client')),
    );
    for (const read of reads) {
      expect(JSON.parse(read.body)).toMatchObject({
        name: 'Written first',
        webhook_uri: 'https://hooks.example.com/written-second',
      });
      expect(read.headers.etag).toBe(second.headers.etag);
    }
    expect(affixGets()).toBe(0);
  });

  it('a change made at Affix is reported once, by field name, on the next read; writes through the proxy never are', async () => {
    const run = stackOf();
    freshRound(run, 3);
    expect((await run.caller.call('GET', '/client', undefined, NO_CACHE)).status).toBe(200);
    const from = output.lines.length;
    run.sandbox.setClient({ ...run.sandbox.client, webhook_uri: 'https://intruder.example.com/hook' });
    const reads = await Promise.all(
      Array.from({ length: ENVIRONMENTS * 2 }, () => run.caller.call('GET', '/client', undefined, NO_CACHE)),
    );
    for (const read of reads) expect(read.status).toBe(200);
    // OUTSIDE: exactly one report, naming the field and not its value.
    const reported = outsideChangeLines(from);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.outsideChange?.fields).toEqual(['webhook_uri']);
    expect(output.lines.slice(from).join('\n')).not.toContain('intruder.example.com');
    expect(output.json(from).some((line) => line[METRIC.outsideChange] === 1)).toBe(true);

    // Concurrent writes through the proxy, with reads from every environment in between.
    const quiet = output.lines.length;
    for (let round = 0; round < 5; round += 1) {
      const answers = await Promise.all([
        run.caller.call('PATCH', '/client', { name: `Proxy name ${round}` }),
        run.caller.call('PATCH', '/client', { webhook_uri: `https://hooks.example.com/proxy-${round}` }),
        run.caller.call('PATCH', '/client', { redirect_uris: [`https://app.example.com/proxy-${round}`] }),
        ...Array.from({ length: ENVIRONMENTS }, () => run.caller.call('GET', '/client', undefined, NO_CACHE)),
      ]);
      for (const answer of answers) expect(answer.status, statusSummary(answers)).toBe(200);
    }
    expect(run.sandbox.client.name).toBe('Proxy name 4');
    expect(outsideChangeLines(quiet)).toEqual([]);
  }, 60_000);

  it('after one 429 with Retry-After 60: 50 requests from all environments cost nothing at Affix and answer 429 counting down (GETs from the cache: 200)', async () => {
    const run = stackOf();
    freshRound(run, 4);
    expect((await run.caller.call('GET', '/client', undefined, NO_CACHE)).status).toBe(200);
    run.sandbox.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '60' } });
    const limited = await run.caller.call('GET', '/client', undefined, NO_CACHE);
    run.caller.expectProblem(limited, 429, 'upstream-rate-limited');
    expect(limited.headers['retry-after']).toBe('60');
    run.sandbox.resetRequests();
    const from = output.lines.length;
    const waves: Called[][] = [];
    for (let wave = 0; wave < 5; wave += 1) {
      if (wave > 0) await new Promise((resolve) => setTimeout(resolve, 700));
      waves.push(
        await Promise.all([
          ...Array.from({ length: 4 }, (_, index) =>
            run.caller.call('PATCH', '/client', { name: `Backed off ${wave}.${index}` }),
          ),
          ...Array.from({ length: 4 }, () => run.caller.call('GET', '/client', undefined, NO_CACHE)),
          ...Array.from({ length: 2 }, () => run.caller.call('GET', '/client')),
        ]),
      );
    }
    const all = waves.flat();
    expect(all).toHaveLength(50);
    expect(environmentsOf(all).size).toBe(ENVIRONMENTS);
    // BACKOFF: nothing reached Affix.
    expect(run.sandbox.requests).toEqual([]);
    const retryAfters = waves.map((wave) =>
      wave.filter((answer) => answer.status === 429).map((answer) => Number(answer.headers['retry-after'])),
    );
    for (const [index, wave] of waves.entries()) {
      const summary = `wave ${index}: ${statusSummary(wave)}`;
      // PATCHes and no-cache GETs: 429 at once; plain GETs: the cached view.
      for (const answer of wave.slice(0, 8)) run.caller.expectProblem(answer, 429, 'upstream-rate-limited');
      for (const answer of wave.slice(8)) expect(answer.status, summary).toBe(200);
      for (const value of retryAfters[index] ?? []) {
        expect(value).toBeGreaterThan(0);
        expect(value).toBeLessThanOrEqual(60);
      }
      if (index > 0) {
        expect(Math.max(...(retryAfters[index] ?? []))).toBeLessThanOrEqual(
          Math.min(...(retryAfters[index - 1] ?? [])),
        );
      }
    }
    expect(Math.max(...(retryAfters.at(-1) ?? []))).toBeLessThan(Math.min(...(retryAfters[0] ?? [])));
    // Visible: the metric and an audit line per request the back-off answered (the environments' lines
    // arrive over their own streams: wait for the last of them).
    await vi.waitFor(() => {
      const lines = output.json(from);
      expect(lines.filter((line) => line[METRIC.rateLimitBackoff] === 1)).toHaveLength(40);
      const audits = lines.filter(
        (line) =>
          line.message === 'audit' && (line.audit as { answeredFrom?: string })?.answeredFrom === 'backoff',
      );
      expect(audits).toHaveLength(40);
    });
  }, 60_000);
});
