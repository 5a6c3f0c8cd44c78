/**
 * What the write-lock acceptance tests share: the local stack with the handler in a pool of
 * warm, isolated execution environments (as Lambda runs it), the sandbox with a realistic latency, an
 * DynamoDB engine (dynalite) the stack starts with the state table, and per-round helpers.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { type AffixClientState, SANDBOX_DEFAULTS, type SandboxRequest } from '../../local/affix-sandbox.ts';
import { bundledHandlerModule } from '../../local/handler-bundle.ts';
import type { LambdaPool } from '../../local/lambda-pool.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { captureOutput, type OutputCapture } from '../support/capture.ts';
import { type Called, createCaller } from '../support/http-caller.ts';
import { findLeaks } from '../support/leaks.ts';
import { signedFetch } from '../support/signed-fetch.ts';

/**
 * The lock's lease length variable (seconds). One constant, so the name can be adjusted where the
 * lock is merged.
 */
export const LEASE_SECONDS_VARIABLE = 'WRITE_LOCK_LEASE_SECONDS';
/** A realistic Affix round trip. */
export const SANDBOX_LATENCY_MS = 50;
/** Rounds per property; `WRITE_LOCK_ROUNDS` overrides (e.g. 5 for a quick look). */
export const ROUNDS = Number(process.env.WRITE_LOCK_ROUNDS ?? 50);
export const CURRENT_SECRET = SANDBOX_DEFAULTS.clientSecret[0];

export type ClientField = 'name' | 'webhook_uri' | 'redirect_uris' | 'client_secret';
const FIELDS: readonly ClientField[] = ['name', 'webhook_uri', 'redirect_uris', 'client_secret'];

export interface ConcurrencyStack {
  stack: LocalStack;
  pool: LambdaPool;
  caller: ReturnType<typeof createCaller>;
  sandbox: NonNullable<LocalStack['sandbox']>;
  /** One SDK client of the stack's DynamoDB engine, for looking at the table (closed with the stack). */
  table: DynamoDBClient;
  close(): Promise<void>;
}

/**
 * Unless a suite sets its own function timeout: room for every writer of a round to wait its turn on a
 * machine whose cores are busy. These suites prove what the lock serializes, not the deadline: with
 * the deployed 10 s deadline a waiter gives up after 5 s (half its budget), which four writers in a
 * row used up with a load average of 29. The longest deadline the handler accepts, in a function
 * timeout under the local API's 29 s integration timeout.
 */
const ROOMY_TIMEOUT_MS = 28_000;
const ROOMY_DEADLINE_ENV = { UPSTREAM_DEADLINE_MS: '25000' };

/**
 * The stack with `environments` warm environments, each of which has read its credentials already,
 * so what the rounds measure is writes only.
 */
export async function startConcurrencyStack(options: {
  environments: number;
  leaseSeconds?: number;
  timeoutMs?: number;
  /** More handler variables (e.g. a smaller `DEADLINE_SAFETY_MARGIN_MS` with a short timeout). */
  handlerEnv?: Record<string, string>;
  /** Whether the sandbox enforces Affix's documented rate limits (default off). */
  sandboxRateLimits?: boolean;
}): Promise<ConcurrencyStack> {
  // The stack's own DynamoDB engine (dynalite) holds the lease table every environment shares.
  const roomy = options.timeoutMs === undefined;
  const handlerEnv: Record<string, string> = { ...(roomy ? ROOMY_DEADLINE_ENV : {}), ...options.handlerEnv };
  if (options.leaseSeconds !== undefined) handlerEnv[LEASE_SECONDS_VARIABLE] = String(options.leaseSeconds);
  const stack = await startLocalStack({
    port: 0,
    // The deployed artifact, not the TypeScript sources: what production runs, and an environment
    // that needs no tsx starts on a fraction of the CPU (these suites start dozens of them). Built once
    // per run by the project's global setup (handler-bundle-setup.ts), else once per file.
    handlerModule: inject('handlerBundle') ?? (await bundledHandlerModule()),
    concurrency: options.environments,
    warmEnvironments: options.environments,
    sandboxLatencyMs: SANDBOX_LATENCY_MS,
    timeoutMs: roomy ? ROOMY_TIMEOUT_MS : options.timeoutMs,
    handlerEnv,
    sandboxRateLimits: options.sandboxRateLimits === true,
  });
  const { pool, sandbox } = stack;
  if (pool === undefined || sandbox === undefined)
    throw new Error('the stack should run a pool and the sandbox');
  const caller = createCaller(() => stack.apiUrl);
  // One GET per environment at once (each is idle, so each takes one): credentials read everywhere.
  // Arrivals can straggle, so repeat until every environment has served one.
  for (
    let attempt = 1;
    pool.environments().some((environment) => environment.invocations === 0);
    attempt += 1
  ) {
    if (attempt > 5) throw new Error('not every environment could be warmed up');
    // Warming is not under test: an environment whose first GET ran out of time (a busy machine, a short
    // function timeout) has still loaded its credentials; the loop only needs every one to have run once.
    // A raw signed fetch, not the documenting caller: a warm-up killed at the function timeout answers
    // API Gateway's own 502, which is no answer of ours to check.
    await Promise.all(
      Array.from({ length: options.environments }, () =>
        signedFetch(`${stack.apiUrl}/client`).then((response) => response.arrayBuffer()),
      ),
    );
  }
  return {
    stack,
    pool,
    caller,
    sandbox,
    table: stack.dynamodb.client(),
    close: () => stack.close(),
  };
}

/** A fresh client state for round `round`: nothing from an earlier round can make it pass. */
export function roundClient(round: number): AffixClientState {
  return {
    client_id: SANDBOX_DEFAULTS.clientId,
    client_secret: [CURRENT_SECRET],
    name: `Round ${round} start`,
    redirect_uris: [`https://round-${round}.example.com/start`],
    webhook_uri: `https://hooks.example.com/round-${round}/start`,
  };
}

/** e.g. `1 x 200, 3 x 412`: what a round's answers were, for failure messages. */
export function statusSummary(results: readonly Called[]): string {
  const counts = new Map<number, number>();
  for (const result of results) counts.set(result.status, (counts.get(result.status) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${count} x ${status}`)
    .join(', ');
}

export function posts(requests: readonly SandboxRequest[]): Record<string, unknown>[] {
  return requests
    .filter((request) => request.method === 'POST')
    .map((request) => request.body as Record<string, unknown>);
}

/** The environments that served these answers (the pool tags each one). */
export function environmentsOf(results: readonly Called[]): Set<string> {
  return new Set(results.map((result) => result.headers['x-local-environment-id'] ?? 'none'));
}

/** The fields a history compares: the four a write can change (`webhook_uri` absent counts as null). */
export function modelled(state: object): Record<string, unknown> {
  const record = state as Record<string, unknown>;
  const view: Record<string, unknown> = {};
  for (const field of FIELDS) view[field] = record[field] ?? null;
  return view;
}

/**
 * Checks that the POSTs Affix received form one serial history: each is the previous state with
 * exactly one accepted change applied (its writer read what the previous POST wrote). A POST built on
 * a stale read fails here, naming what it undid. Returns the final state the history implies.
 */
export function expectSerialHistory(
  round: number,
  start: AffixClientState,
  changes: readonly Partial<Record<ClientField, unknown>>[],
  bodies: readonly Record<string, unknown>[],
): Record<string, unknown> {
  let state = modelled(start);
  const pending = [...changes];
  bodies.forEach((body, index) => {
    const sent = modelled(body);
    const match = pending.findIndex((change) => {
      const expected = { ...state, ...change };
      return FIELDS.every((field) => JSON.stringify(expected[field]) === JSON.stringify(sent[field]));
    });
    if (match < 0) {
      const undone = FIELDS.filter((field) => JSON.stringify(state[field]) !== JSON.stringify(sent[field]));
      expect.fail(
        `round ${round}: POST ${index + 1} of ${bodies.length} was built on a stale read: it is not the ` +
          `previous state plus one change (differs in ${undone.join(', ')}), so an accepted change was lost`,
      );
    }
    pending.splice(match, 1);
    state = sent;
  });
  return state;
}

/**
 * Independent stacks per suite (each its own sandbox, lease table and pool): the rounds of a property
 * are spread over them and run side by side, so 50 serialized rounds fit the suite's time. Rounds
 * are independent (each starts from a fresh client state), so spreading them proves the same thing.
 * `WRITE_LOCK_STACKS` overrides.
 */
export const STACKS = Number(process.env.WRITE_LOCK_STACKS ?? 4);

/**
 * Starts `count` stacks for a suite (and stops them), and proves afterwards that no answer, header or
 * log line carried the current secret or any secret the suite added (`secrets`).
 */
export function useConcurrencyStacks(
  count: number,
  options: Parameters<typeof startConcurrencyStack>[0],
  secrets: string[] = [],
  output: OutputCapture = captureOutput(),
): () => ConcurrencyStack[] {
  const running: ConcurrencyStack[] = [];
  beforeAll(async () => {
    // One at a time: each warms its environments, and the machine has two cores.
    for (let index = 0; index < count; index += 1) running.push(await startConcurrencyStack(options));
  }, 90_000);
  afterAll(async () => {
    const answers = running.flatMap((run) => run.caller.answers);
    await Promise.all(running.map((run) => run.close()));
    expect(answers.length).toBeGreaterThan(options.environments);
    const texts = [
      ...answers.map((answer) => answer.body),
      ...answers.map((answer) => JSON.stringify(answer.headers)),
      ...output.lines,
    ];
    expect(findLeaks(texts, [CURRENT_SECRET, ...secrets], SANDBOX_DEFAULTS.clientId)).toEqual([]);
  });
  return () => {
    if (running.length !== count) throw new Error('the stacks are not running');
    return running;
  };
}

/** One stack for a suite (see {@link useConcurrencyStacks}); pass `output` to read its log lines too. */
export function useConcurrencyStack(
  options: Parameters<typeof startConcurrencyStack>[0],
  secrets: string[] = [],
  output?: OutputCapture,
): () => ConcurrencyStack {
  const stacks = useConcurrencyStacks(1, options, secrets, output);
  return () => {
    const [run] = stacks();
    if (run === undefined) throw new Error('the stack is not running');
    return run;
  };
}

/**
 * A write as a caller under contention makes it: a 503 `write-contention` or `write-lock-unavailable`
 * (the lock store did not answer in time on a busy machine; nothing was sent to Affix) is sent again
 * after its `Retry-After` (at most 1 s a wait); a 504 `upstream-timeout`, or API Gateway's 502 `gateway-error`
 * for an invocation killed at its function timeout, at once (a busy machine can pass a deadline; every
 * change here is idempotent, so a retry after a write that did land sends nothing, and the POSTs the
 * suites count still prove it). Gives up after `budgetMs` and returns the last answer.
 */
export async function writeAccepted(
  run: ConcurrencyStack,
  method: 'PATCH' | 'PUT',
  path: string,
  body: unknown,
  budgetMs = 60_000,
): Promise<Called> {
  const end = Date.now() + budgetMs;
  for (;;) {
    const result = await run.caller.call(method, path, body);
    if (![502, 503, 504].includes(result.status) || Date.now() > end) return result;
    if (result.status === 502) {
      expect(result.documented).toMatchObject({ kind: 'gateway', slug: 'gateway-error' });
      continue;
    }
    if (result.status === 504) {
      run.caller.expectProblem(result, 504, 'upstream-timeout');
      continue;
    }
    const slug = result.documented.kind === 'problem' ? result.documented.slug : undefined;
    run.caller.expectProblem(result, 503, slug === 'write-lock-unavailable' ? slug : 'write-contention');
    const seconds = Number(result.headers['retry-after'] ?? '1');
    await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, 1) * 1_000));
  }
}

/** Rounds 1..`rounds`, spread over the stacks: each stack runs its share in order, stacks side by side. */
export async function eachRound(
  stacks: readonly ConcurrencyStack[],
  rounds: number,
  body: (run: ConcurrencyStack, round: number) => Promise<void>,
): Promise<void> {
  await Promise.all(
    stacks.map(async (run, index) => {
      for (let round = index + 1; round <= rounds; round += stacks.length) await body(run, round);
    }),
  );
}

/** Sets round `round`'s fresh client state and clears the sandbox's log and faults. */
export function freshRound(run: ConcurrencyStack, round: number): AffixClientState {
  const start = roundClient(round);
  run.sandbox.setClient(start);
  run.sandbox.resetRequests();
  run.sandbox.clearFaults();
  return start;
}
