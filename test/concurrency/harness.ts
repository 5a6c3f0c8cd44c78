/**
 * What the write-lock acceptance tests (issue 9) share: the local stack with the handler in a pool of
 * warm, isolated execution environments (as Lambda runs it), the sandbox with a realistic latency, an
 * in-process DynamoDB engine (dynalite) with the state table, and per-round helpers.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect } from 'vitest';
import { type AffixClientState, SANDBOX_DEFAULTS, type SandboxRequest } from '../../local/affix-sandbox.ts';
import type { LambdaPool } from '../../local/lambda-pool.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { captureOutput } from '../support/capture.ts';
import { type Called, createCaller } from '../support/http-caller.ts';
import { findLeaks } from '../support/leaks.ts';

/**
 * The lock's lease length variable (seconds). One constant, so the name can be adjusted where the
 * lock is merged.
 */
export const LEASE_SECONDS_VARIABLE = 'WRITE_LOCK_LEASE_SECONDS';
/** A realistic Affix round trip (issue 9). */
export const SANDBOX_LATENCY_MS = 50;
/** Rounds per property; `WRITE_LOCK_ROUNDS` overrides (e.g. 5 for a quick look). */
export const ROUNDS = Number(process.env.WRITE_LOCK_ROUNDS ?? 50);
export const CURRENT_SECRET = SANDBOX_DEFAULTS.clientSecret[0];
export const TABLE_NAME = 'affix-webhook-config-state-test';

export type ClientField = 'name' | 'webhook_uri' | 'redirect_uris' | 'client_secret';
const FIELDS: readonly ClientField[] = ['name', 'webhook_uri', 'redirect_uris', 'client_secret'];

interface DynaliteServer extends Server {
  close(callback?: (error?: Error) => void): this;
}
type Dynalite = (options: { createTableMs: number }) => DynaliteServer;

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** dynalite on 127.0.0.1 with the state table (string `pk` + `sk`), as the stack defines it. */
export async function startLocalDynamo(): Promise<LocalDynamo> {
  // dynalite ships CommonJS without types.
  const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('dynalite did not bind a port');
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: TABLE_NAME,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ConcurrencyStack {
  stack: LocalStack;
  pool: LambdaPool;
  dynamo: LocalDynamo;
  caller: ReturnType<typeof createCaller>;
  sandbox: NonNullable<LocalStack['sandbox']>;
  close(): Promise<void>;
}

/**
 * The stack with `environments` warm environments, each of which has read its credentials already,
 * so what the rounds measure is writes only.
 */
export async function startConcurrencyStack(options: {
  environments: number;
  leaseSeconds?: number;
  timeoutMs?: number;
}): Promise<ConcurrencyStack> {
  const dynamo = await startLocalDynamo();
  const handlerEnv: Record<string, string> = {
    STATE_TABLE_NAME: TABLE_NAME,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  };
  if (options.leaseSeconds !== undefined) handlerEnv[LEASE_SECONDS_VARIABLE] = String(options.leaseSeconds);
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      port: 0,
      concurrency: options.environments,
      warmEnvironments: options.environments,
      sandboxLatencyMs: SANDBOX_LATENCY_MS,
      timeoutMs: options.timeoutMs,
      handlerEnv,
    });
  } catch (error) {
    await dynamo.close();
    throw error;
  }
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
    const reads = await Promise.all(
      Array.from({ length: options.environments }, () => caller.call('GET', '/client')),
    );
    for (const read of reads) expect(read.status, read.body).toBe(200);
  }
  return {
    stack,
    pool,
    dynamo,
    caller,
    sandbox,
    close: async () => {
      await stack.close();
      await dynamo.close();
    },
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
 * Starts the stack for a suite (and stops it), and proves afterwards that no answer, header or log
 * line carried the current secret or any secret the suite added (`secrets`).
 */
export function useConcurrencyStack(
  options: Parameters<typeof startConcurrencyStack>[0],
  secrets: string[] = [],
) {
  const output = captureOutput();
  const holder: { run: ConcurrencyStack | undefined } = { run: undefined };
  beforeAll(async () => {
    holder.run = await startConcurrencyStack(options);
  }, 60_000);
  afterAll(async () => {
    const answers = holder.run?.caller.answers ?? [];
    await holder.run?.close();
    expect(answers.length).toBeGreaterThan(options.environments);
    const texts = [
      ...answers.map((answer) => answer.body),
      ...answers.map((answer) => JSON.stringify(answer.headers)),
      ...output.lines,
    ];
    expect(findLeaks(texts, [CURRENT_SECRET, ...secrets], SANDBOX_DEFAULTS.clientId)).toEqual([]);
  });
  return (): ConcurrencyStack => {
    if (!holder.run) throw new Error('the stack is not running');
    return holder.run;
  };
}

/** Sets round `round`'s fresh client state and clears the sandbox's log and faults. */
export function freshRound(run: ConcurrencyStack, round: number): AffixClientState {
  const start = roundClient(round);
  run.sandbox.setClient(start);
  run.sandbox.resetRequests();
  run.sandbox.clearFaults();
  return start;
}
