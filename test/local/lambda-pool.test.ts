/**
 * The local Lambda pool: isolated environments (worker threads) that each import the handler module
 * themselves, one invocation at a time each, grown on demand up to the limit, FIFO past it, killed on
 * timeout, replaced after a crash, all gone after close(). Driven over real HTTP through the local API.
 */
import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_PREFIX } from '../../functions/contract/gateway-responses.ts';
import { type LocalApi, startLocalApi } from '../../local/api-gateway.ts';
import { localHandlerEnv } from '../../local/handler-env.ts';
import {
  createLambdaPool,
  ENVIRONMENT_ID_HEADER,
  type LambdaPool,
  parseConcurrency,
} from '../../local/lambda-pool.ts';
import { signedFetch } from '../support/signed-fetch.ts';

const HANDLER = new URL('./fixtures/counter-handler.ts', import.meta.url).href;

interface Seen {
  counter: number;
  loadedAs: string;
  threadId: number;
  startedAt: number;
  endedAt: number;
  requestId: string;
  remainingMs: number;
  poolTestValue: string | null;
  parentOnly: string | null;
  mutated: string | null;
}

interface Served {
  status: number;
  environment: string | null;
  requestId: string | null;
  seen: Seen | undefined;
  body: string;
}

const running: { api: LocalApi; pool: LambdaPool }[] = [];

afterEach(async () => {
  for (const { api, pool } of running.splice(0)) {
    await api.close();
    await pool.close();
  }
});

async function start(
  options: { concurrency?: number; timeoutMs?: number; apiTimeoutMs?: number } = {},
): Promise<{ pool: LambdaPool; call: (query?: string) => Promise<Served> }> {
  const pool = createLambdaPool({
    handlerModule: HANDLER,
    env: { POOL_TEST_VALUE: 'given-explicitly' },
    concurrency: options.concurrency,
    timeoutMs: options.timeoutMs,
  });
  const api = await startLocalApi({
    handler: pool,
    port: 0,
    timeoutMs: options.apiTimeoutMs ?? 20_000,
    onError: () => {},
  });
  running.push({ api, pool });
  const call = async (query = ''): Promise<Served> => {
    const response = await signedFetch(`${api.url}/client${query}`);
    const body = await response.text();
    return {
      status: response.status,
      environment: response.headers.get(ENVIRONMENT_ID_HEADER),
      requestId: response.headers.get('x-amzn-requestid'),
      seen: response.status === 200 ? (JSON.parse(body) as Seen) : undefined,
      body,
    };
  };
  return { pool, call };
}

function seen(served: Served): Seen {
  expect(served.status, served.body).toBe(200);
  if (!served.seen) throw new Error('no body');
  return served.seen;
}

describe('lambda pool: isolation', () => {
  it('module state is per environment: two concurrent requests each see counter 1', async () => {
    const { call, pool } = await start({ concurrency: 2 });
    const [a, b] = (await Promise.all([call('?sleep=300'), call('?sleep=300')])).map(seen);
    expect([a?.counter, b?.counter]).toEqual([1, 1]);
    expect(a?.loadedAs).not.toBe(b?.loadedAs);
    expect(a?.threadId).not.toBe(b?.threadId);
    // Neither is this process: the handler never ran here.
    expect([a?.threadId, b?.threadId]).not.toContain(threadId);
    expect(pool.environments()).toHaveLength(2);
  });

  it('an environment is reused warm: its state carries over, as in a Lambda container', async () => {
    const { call, pool } = await start({ concurrency: 2 });
    const first = await call();
    const second = await call();
    expect(first.environment).toBe(second.environment);
    expect(seen(second).counter).toBe(2);
    expect(seen(second).loadedAs).toBe(seen(first).loadedAs);
    expect(pool.environments()).toEqual([{ id: first.environment, state: 'idle', invocations: 2 }]);
  });

  it('gets exactly the environment it was given: not this process env, not another environment', async () => {
    process.env.POOL_TEST_PARENT_ONLY = 'parent';
    try {
      const { call } = await start({ concurrency: 2 });
      const [a, b] = await Promise.all([call('?setenv=changed-in-one&sleep=200'), call('?sleep=300')]);
      expect(seen(a)).toMatchObject({
        poolTestValue: 'given-explicitly',
        parentOnly: null,
        mutated: 'changed-in-one',
      });
      // b started while a changed its own process.env: b does not see it, nor does this process.
      expect(seen(b)).toMatchObject({ poolTestValue: 'given-explicitly', parentOnly: null, mutated: null });
      expect(process.env.POOL_TEST_MUTATED).toBeUndefined();
    } finally {
      delete process.env.POOL_TEST_PARENT_ONLY;
    }
  });

  it('builds a real Lambda context inside the environment: request id and a remaining time that counts down', async () => {
    const { call } = await start({ concurrency: 1, timeoutMs: 3_000 });
    const served = await call('?sleep=200');
    const context = seen(served);
    expect(context.requestId).toBe(served.requestId);
    expect(context.remainingMs).toBeLessThanOrEqual(3_000 - 190);
    expect(context.remainingMs).toBeGreaterThan(1_000);
  });
});

describe('lambda pool: concurrency', () => {
  it('runs one invocation at a time per environment: with a limit of 1 they never overlap', async () => {
    const { call, pool } = await start({ concurrency: 1 });
    const results = (await Promise.all([call('?sleep=150'), call('?sleep=150'), call('?sleep=150')])).map(
      seen,
    );
    expect(new Set(results.map((result) => result.loadedAs)).size).toBe(1);
    const byStart = [...results].sort((x, y) => x.startedAt - y.startedAt);
    for (let i = 1; i < byStart.length; i += 1) {
      expect(byStart[i]?.startedAt).toBeGreaterThanOrEqual(
        byStart[i - 1]?.endedAt ?? Number.POSITIVE_INFINITY,
      );
    }
    expect(results.map((result) => result.counter).sort()).toEqual([1, 2, 3]);
    expect(pool.environments()).toHaveLength(1);
  });

  it('grows up to the limit and no further; past it requests wait (FIFO) for a free environment', async () => {
    const { call, pool } = await start({ concurrency: 3 });
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, pool.environments().length);
    }, 5);
    const calls: Promise<Served>[] = [];
    for (let i = 0; i < 6; i += 1) {
      calls.push(call(`?sleep=500&n=${i}`));
      // Requests arrive in this order, so the queue order is known (spaced widely: the machine is busy).
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    const results = await Promise.all(calls);
    clearInterval(watch);
    expect(most).toBe(3);
    expect(new Set(results.map((result) => result.environment)).size).toBe(3);
    const runs = results.map(seen);
    // Never more than three invocations at once.
    const overlapping = (at: number) => runs.filter((run) => run.startedAt <= at && at < run.endedAt).length;
    expect(Math.max(...runs.map((run) => overlapping(run.startedAt)))).toBe(3);
    // Each of the three that waited started once one of the first three had finished, in arrival order.
    const firstEnds = runs
      .slice(0, 3)
      .map((run) => run.endedAt)
      .sort((x, y) => x - y);
    const waitedStarts = runs.slice(3).map((run) => run.startedAt);
    expect(waitedStarts).toEqual([...waitedStarts].sort((x, y) => x - y));
    waitedStarts.forEach((startedAt, i) => {
      expect(startedAt).toBeGreaterThanOrEqual((firstEnds[i] ?? Number.POSITIVE_INFINITY) - 2);
    });
  });

  it('queues FIFO when the only environment is busy', async () => {
    const { call } = await start({ concurrency: 1 });
    const order: number[] = [];
    const calls = [0, 1, 2, 3].map(async (i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 30));
      const result = await call(`?sleep=100&n=${i}`);
      order.push(i);
      return seen(result).counter;
    });
    expect(await Promise.all(calls)).toEqual([1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3]);
  });
});

describe('lambda pool: failures', () => {
  it('kill(id) fails the in-flight invocation (502 from the local API) and a new environment serves the next one', async () => {
    const { call, pool } = await start({ concurrency: 1 });
    const warm = await call();
    const id = warm.environment ?? '';
    const inFlight = call('?sleep=5000');
    await until(() => pool.environments().some((env) => env.state === 'busy'));
    await pool.kill(id);
    const killed = await inFlight;
    expect(killed.status).toBe(502);
    // A killed environment is a function error: API Gateway's default 5XX answer, as a problem.
    expect(JSON.parse(killed.body)).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}gateway-error` });
    expect(pool.environments().map((env) => env.id)).not.toContain(id);
    const next = await call();
    expect(next.environment).not.toBe(id);
    expect(seen(next).counter).toBe(1);
  });

  it('a crashed environment (the process exits) answers 502 and is replaced', async () => {
    const { call, pool } = await start({ concurrency: 1 });
    const before = await call();
    const crashed = await call('?crash=1');
    expect(crashed.status).toBe(502);
    const after = await call();
    expect(after.environment).not.toBe(before.environment);
    expect(seen(after).counter).toBe(1);
    expect(pool.environments()).toHaveLength(1);
  });

  it('a handler that throws fails only that invocation: the environment stays warm', async () => {
    const { call } = await start({ concurrency: 1 });
    const before = await call();
    expect((await call('?throw=1')).status).toBe(502);
    const after = await call();
    expect(after.environment).toBe(before.environment);
    expect(seen(after).counter).toBe(3);
  });

  it('an invocation past the function timeout kills its environment; the next request gets a fresh one', async () => {
    const { call, pool } = await start({ concurrency: 1, timeoutMs: 400 });
    const before = await call();
    const started = performance.now();
    const timedOut = await call('?sleep=3000');
    expect(timedOut.status).toBe(502);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(pool.environments().map((env) => env.id)).not.toContain(before.environment);
    const after = await call();
    expect(after.environment).not.toBe(before.environment);
    expect(seen(after).counter).toBe(1);
  });

  it('close() terminates every environment and fails queued and later invocations', async () => {
    const { call, pool } = await start({ concurrency: 1 });
    await call();
    const inFlight = call('?sleep=5000');
    const queued = call('?sleep=10');
    await until(() => pool.environments().some((env) => env.state === 'busy'));
    await pool.close();
    expect(pool.environments()).toEqual([]);
    expect((await inFlight).status).toBe(502);
    expect((await queued).status).toBe(502);
    expect((await call()).status).toBe(502);
  });
});

describe('lambda pool: warm-up and init', () => {
  it('warm(n) starts n environments before any request (capped at the limit); requests then find them warm', async () => {
    const { call, pool } = await start({ concurrency: 3 });
    await pool.warm(5);
    expect(pool.environments().map((env) => env.state)).toEqual(['idle', 'idle', 'idle']);
    const served = await Promise.all([call('?sleep=200'), call('?sleep=200'), call('?sleep=200')]);
    expect(new Set(served.map((result) => result.environment)).size).toBe(3);
    expect(served.map((result) => seen(result).counter)).toEqual([1, 1, 1]);
  });

  it('an init failure (no handler export) rejects warm() and fails the invocation with 502', async () => {
    const pool = createLambdaPool({
      handlerModule: new URL('./fixtures/no-handler.ts', import.meta.url).href,
      env: {},
    });
    const api = await startLocalApi({ handler: pool, port: 0, onError: () => {} });
    running.push({ api, pool });
    await expect(pool.warm()).rejects.toThrow(/init failed: .*does not export a function named handler/);
    expect(pool.environments()).toEqual([]);
    expect((await signedFetch(`${api.url}/client`)).status).toBe(502);
  });
});

describe('lambda pool: output and cold starts', () => {
  async function startPowertools(): Promise<{ api: LocalApi; pool: LambdaPool; lines: [string, string][] }> {
    const lines: [string, string][] = [];
    const pool = createLambdaPool({
      handlerModule: new URL('./fixtures/powertools-handler.ts', import.meta.url).href,
      // The environment npm start gives the handler (nothing listens on these URLs; the fixture calls none).
      env: localHandlerEnv({
        affixBaseUrl: 'http://127.0.0.1:9',
        ssmUrl: 'http://127.0.0.1:9',
        dynamodbUrl: 'http://127.0.0.1:9',
        stateTableName: 'unused-table',
      }),
      concurrency: 1,
      onOutput: (line, environmentId) => lines.push([environmentId, line]),
    });
    const api = await startLocalApi({ handler: pool, port: 0, onError: () => {} });
    running.push({ api, pool });
    return { api, pool, lines };
  }

  const coldStarts = (lines: [string, string][]): [string, unknown][] =>
    lines
      .map(([id, line]): [string, Record<string, unknown>] => [
        id,
        JSON.parse(line) as Record<string, unknown>,
      ])
      .filter(([, entry]) => entry.message === 'invoked')
      .map(([id, entry]) => [id, entry.cold_start]);

  it('hands each line an environment writes to onOutput, with its id, instead of this stdout', async () => {
    const { api, lines } = await startPowertools();
    expect((await signedFetch(`${api.url}/client`)).status).toBe(200);
    await until(() => lines.length > 0);
    expect(lines[0]?.[0]).toBe('env-1');
    expect(JSON.parse(lines[0]?.[1] ?? '')).toMatchObject({ message: 'invoked', service: 'pool-test' });
  });

  it("logs cold_start true on an environment's first invocation only, and again in a fresh environment", async () => {
    const { api, pool, lines } = await startPowertools();
    for (let i = 0; i < 2; i += 1) expect((await signedFetch(`${api.url}/client`)).status).toBe(200);
    await until(() => coldStarts(lines).length === 2);
    await pool.kill('env-1');
    expect((await signedFetch(`${api.url}/client`)).status).toBe(200);
    await until(() => coldStarts(lines).length === 3);
    expect(coldStarts(lines)).toEqual([
      ['env-1', true],
      ['env-1', false],
      ['env-2', true],
    ]);
  });
});

describe('LAMBDA_CONCURRENCY', () => {
  it.each([
    [undefined, 4],
    ['', 4],
    ['1', 1],
    ['8', 8],
    [' 2', 2], // the function's rule trims
  ])('%j gives %i', (raw, expected) => {
    expect(parseConcurrency(raw)).toBe(expected);
  });

  it.each(['0', '-1', '1.5', 'four', '65', '0x2'])('rejects %j, naming the variable', (raw) => {
    expect(() => parseConcurrency(raw)).toThrow(/LAMBDA_CONCURRENCY/);
  });
});

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
