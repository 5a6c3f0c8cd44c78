/**
 * The local Lambda pool: isolated environments (worker threads) that each import the handler module
 * themselves, one invocation at a time each, grown on demand up to the limit and refusing past it (as
 * Lambda's TooManyRequestsException, answered as API Gateway answers a throttled integration), the
 * function timeout from dispatch and init's own limit, an environment killed when its invocation times
 * out or its caller gave up, replaced after a crash, all gone after close(). Driven over real HTTP
 * through the local API; a gate (`support/gate.ts`) decides when a held invocation ends.
 */
import { threadId } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_PREFIX } from '../../functions/contract/gateway-responses.ts';
import { type LocalApi, startLocalApi } from '../../local/api-gateway.ts';
import { localHandlerEnv } from '../../local/handler-env.ts';
import { createLambdaPool, ENVIRONMENT_ID_HEADER, type LambdaPool } from '../../local/lambda-pool.ts';
import { signedFetch } from '../support/signed-fetch.ts';
import { until } from '../support/until.ts';
import { type Gate, startGate } from './support/gate.ts';
import { type ManualSchedule, manualSchedule } from './support/manual-schedule.ts';

const HANDLER = new URL('./fixtures/counter-handler.ts', import.meta.url).href;

interface Seen {
  counter: number;
  loadedAs: string;
  threadId: number;
  requestId: string;
  remainingAtStart: number;
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
let gate: Gate;

beforeAll(async () => {
  gate = await startGate();
});
afterAll(async () => {
  await gate.close();
});
afterEach(async () => {
  for (const { api, pool } of running.splice(0)) {
    await api.close();
    await pool.close();
  }
});

interface StartOptions {
  concurrency?: number;
  timeoutMs?: number;
  initTimeoutMs?: number;
  integrationTimeoutMs?: number;
  env?: Record<string, string>;
  /** The pool's timeouts fire when the test says so. */
  poolSchedule?: ManualSchedule;
  /** The API's timeouts fire when the test says so. */
  apiSchedule?: ManualSchedule;
}

async function start(
  options: StartOptions = {},
): Promise<{ pool: LambdaPool; call: (query?: string) => Promise<Served> }> {
  const pool = createLambdaPool({
    handlerModule: HANDLER,
    env: { POOL_TEST_VALUE: 'given-explicitly', ...options.env },
    concurrency: options.concurrency,
    timeoutMs: options.timeoutMs,
    initTimeoutMs: options.initTimeoutMs ?? 60_000,
    schedule: options.poolSchedule?.schedule,
  });
  const api = await startLocalApi({
    handler: pool,
    port: 0,
    integrationTimeoutMs: options.integrationTimeoutMs,
    schedule: options.apiSchedule?.schedule,
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

/** A query that holds the invocation at the gate under `name`. */
const hold = (name: string, extra = ''): string => `?hold=${encodeURIComponent(gate.url(name))}${extra}`;
let holds = 0;
const fresh = (label: string): string => {
  holds += 1;
  return `${label}-${holds}`;
};

function expectThrottled(served: Served): void {
  // API Gateway answers a Lambda TooManyRequestsException as INTEGRATION_FAILURE; the deployed
  // Gateway Response for it has status 504.
  expect(served.status, served.body).toBe(504);
  expect(JSON.parse(served.body)).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}integration-failure` });
  expect(served.environment).toBeNull();
}

describe('lambda pool: isolation', () => {
  it('module state is per environment: two concurrent requests each see counter 1', async () => {
    const { call, pool } = await start({ concurrency: 2 });
    const name = fresh('iso');
    const both = Promise.all([call(hold(name)), call(hold(name))]);
    await gate.held(name, 2);
    gate.release(name);
    const [a, b] = (await both).map(seen);
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
      const name = fresh('env');
      const a = call(hold(name, '&setenv=changed-in-one'));
      const b = call(hold(name));
      await gate.held(name, 2);
      gate.release(name);
      expect(seen(await a)).toMatchObject({
        poolTestValue: 'given-explicitly',
        parentOnly: null,
        mutated: 'changed-in-one',
      });
      // a changed its own process.env before b finished: b does not see it, nor does this process.
      expect(seen(await b)).toMatchObject({
        poolTestValue: 'given-explicitly',
        parentOnly: null,
        mutated: null,
      });
      expect(process.env.POOL_TEST_MUTATED).toBeUndefined();
    } finally {
      delete process.env.POOL_TEST_PARENT_ONLY;
    }
  });

  it('builds a real Lambda context inside the environment: its request id and a remaining time counting down from the timeout', async () => {
    const { call } = await start({ concurrency: 1, timeoutMs: 30_000 });
    const served = await call();
    const context = seen(served);
    expect(context.requestId).toBe(served.requestId);
    expect(context.remainingAtStart).toBeLessThanOrEqual(30_000);
    expect(context.remainingAtStart).toBeGreaterThan(0);
    expect(context.remainingMs).toBeLessThanOrEqual(context.remainingAtStart);
  });
});

describe('lambda pool: concurrency limit', () => {
  it('with a limit of 1, an invocation arriving while the only environment is busy is refused at once and never runs', async () => {
    const { call, pool } = await start({ concurrency: 1 });
    const name = fresh('one');
    const first = call(hold(name));
    await gate.held(name);
    const refused = await call();
    expectThrottled(refused);
    expect(pool.environments()).toEqual([expect.objectContaining({ state: 'busy', invocations: 1 })]);
    gate.release(name);
    expect(seen(await first).counter).toBe(1);
    // The refused request never ran: the next one is the environment's second invocation.
    expect(seen(await call()).counter).toBe(2);
  });

  it('grows up to the limit and no further: past it every invocation is refused while all are busy', async () => {
    const { call, pool } = await start({ concurrency: 3 });
    const name = fresh('three');
    const running3 = [call(hold(name)), call(hold(name)), call(hold(name))];
    await gate.held(name, 3);
    expect(pool.environments().map((env) => env.state)).toEqual(['busy', 'busy', 'busy']);
    for (const served of await Promise.all([call(), call()])) expectThrottled(served);
    expect(pool.environments()).toHaveLength(3);
    gate.release(name);
    const served = await Promise.all(running3);
    expect(new Set(served.map((result) => result.environment)).size).toBe(3);
    expect(served.map((result) => seen(result).counter)).toEqual([1, 1, 1]);
    // Free again: the next invocation finds a warm environment.
    expect(seen(await call()).counter).toBe(2);
  });

  it('an invocation arriving while an environment started by warm() is still in its init waits for that environment', async () => {
    const init = fresh('init');
    const { call, pool } = await start({ concurrency: 1, env: { INIT_HOLD_URL: gate.url(init) } });
    const warming = pool.warm(1);
    await gate.held(init);
    const served = call();
    gate.release(init);
    await warming;
    expect(seen(await served).counter).toBe(1);
    expect(pool.environments()).toHaveLength(1);
  });
});

describe('lambda pool: timeouts', () => {
  it('an invocation past the function timeout kills its environment (502); the next request gets a fresh one', async () => {
    const timers = manualSchedule();
    const { call, pool } = await start({ concurrency: 1, timeoutMs: 400, poolSchedule: timers });
    const before = await call();
    const name = fresh('timeout');
    const answer = call(hold(name));
    await gate.held(name);
    timers.fire(400);
    const timedOut = await answer;
    expect(timedOut.status).toBe(502);
    expect(JSON.parse(timedOut.body)).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}gateway-error` });
    await gate.dropped(name);
    expect(pool.environments().map((env) => env.id)).not.toContain(before.environment);
    const after = await call();
    expect(after.environment).not.toBe(before.environment);
    expect(seen(after).counter).toBe(1);
  });

  it('measures the function timeout from dispatch: during an init within its limit no function timeout runs', async () => {
    const init = fresh('slow-init');
    const timers = manualSchedule();
    const timeoutMs = 30_000;
    const { call } = await start({
      concurrency: 1,
      timeoutMs,
      env: { INIT_HOLD_URL: gate.url(init) },
      poolSchedule: timers,
    });
    const served = call();
    await gate.held(init);
    // During init no function timeout runs yet: only the init limit does.
    expect(timers.pending(timeoutMs)).toBe(0);
    expect(timers.pending(60_000)).toBe(1);
    gate.release(init);
    const context = seen(await served);
    expect(context.remainingAtStart).toBeLessThanOrEqual(timeoutMs);
    expect(context.counter).toBe(1);
    // The function timeout was set at dispatch and cleared when the invocation ended.
    expect(timers.pending(timeoutMs)).toBe(0);
  });

  it("an init past its limit carries on under the waiting invocation's function timeout, as Lambda retries it: it can still answer 200", async () => {
    const init = fresh('overdue-init');
    const timers = manualSchedule();
    const { call, pool } = await start({
      concurrency: 1,
      initTimeoutMs: 300,
      timeoutMs: 30_000,
      env: { INIT_HOLD_URL: gate.url(init) },
      poolSchedule: timers,
    });
    const served = call();
    await gate.held(init);
    expect(timers.pending(30_000)).toBe(0);
    timers.fire(300);
    // The function timeout now runs, counting the rest of the init.
    expect(timers.pending(30_000)).toBe(1);
    expect(pool.environments()).toEqual([expect.objectContaining({ state: 'starting' })]);
    gate.release(init);
    const context = seen(await served);
    expect(context.counter).toBe(1);
    expect(context.remainingAtStart).toBeLessThanOrEqual(30_000);
  });

  it('an init past its limit and then past the function timeout fails its invocation (502) and the environment is discarded', async () => {
    const init = fresh('stuck-init');
    const timers = manualSchedule();
    const { call, pool } = await start({
      concurrency: 1,
      initTimeoutMs: 300,
      timeoutMs: 30_000,
      env: { INIT_HOLD_URL: gate.url(init) },
      poolSchedule: timers,
    });
    const answer = call();
    await gate.held(init);
    timers.fire(300);
    timers.fire(30_000);
    const failed = await answer;
    expect(failed.status).toBe(502);
    await gate.dropped(init);
    expect(pool.environments()).toEqual([]);
  });

  it('when the API gives up (its integration timeout) the environment running the invocation is killed: nothing it would do afterwards happens', async () => {
    const timers = manualSchedule();
    const { call, pool } = await start({
      concurrency: 1,
      timeoutMs: 60_000,
      integrationTimeoutMs: 400,
      apiSchedule: timers,
    });
    const name = fresh('gave-up');
    const effect = fresh('effect');
    const answer = call(hold(name, `&after=${encodeURIComponent(gate.url(effect))}`));
    await gate.held(name);
    timers.fire(400);
    const answered = await answer;
    expect(answered.status).toBe(504);
    expect(JSON.parse(answered.body)).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}integration-timeout` });
    // The held connection dies with its environment, so the handler never reaches its side effect.
    await gate.dropped(name);
    gate.release(name);
    expect(pool.environments()).toEqual([]);
    expect(seen(await call()).counter).toBe(1);
    expect(gate.hits(effect)).toBe(0);
  });
});

describe('lambda pool: failures', () => {
  it('kill(id) fails the in-flight invocation (502 from the local API) and a new environment serves the next one', async () => {
    const { call, pool } = await start({ concurrency: 1 });
    const warm = await call();
    const id = warm.environment ?? '';
    const name = fresh('kill');
    const inFlight = call(hold(name));
    await gate.held(name);
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

  it('close() terminates every environment and fails in-flight and later invocations', async () => {
    const { call, pool } = await start({ concurrency: 1 });
    await call();
    const name = fresh('close');
    const inFlight = call(hold(name));
    await gate.held(name);
    await pool.close();
    expect(pool.environments()).toEqual([]);
    expect((await inFlight).status).toBe(502);
    expect((await call()).status).toBe(502);
  });
});

describe('lambda pool: warm-up and init', () => {
  it('warm(n) starts n environments before any request (capped at the limit); requests then find them warm', async () => {
    const { call, pool } = await start({ concurrency: 3 });
    await pool.warm(5);
    expect(pool.environments().map((env) => env.state)).toEqual(['idle', 'idle', 'idle']);
    const name = fresh('warm');
    const served = Promise.all([call(hold(name)), call(hold(name)), call(hold(name))]);
    await gate.held(name, 3);
    gate.release(name);
    const results = await served;
    expect(new Set(results.map((result) => result.environment)).size).toBe(3);
    expect(results.map((result) => seen(result).counter)).toEqual([1, 1, 1]);
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

/** Waits for a condition the test's own timeout bounds (no wall-clock deadline of its own). */
