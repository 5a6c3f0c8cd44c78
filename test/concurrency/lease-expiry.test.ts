/**
 * Acceptance of the write lock: a lease holder that dies mid-write. Its environment is killed while its POST is
 * held at the sandbox (the write still lands, late, as a request Affix already received would), or its
 * own deadline gives the POST up first (then it answers 504 and keeps the lease, the write in doubt). The
 * next writer must not read or write until the dead holder's lease has expired, and nothing is
 * written twice. The next writer does what a caller does under contention: it retries a 503
 * `write-contention` after its `Retry-After` (`writeAccepted`).
 *
 * A lease always outlives the invocation (the function timeout plus 2 s; read back from the table and
 * checked), so each round waits out a few seconds of lease. The 50 rounds therefore run as `DEATH_STACKS` independent stacks side by side
 * (each its own sandbox, lease table and pool of two environments), `DEATH_ROUNDS / DEATH_STACKS`
 * rounds each, with a short function timeout. `LEASE_DEATH_ROUNDS` and `LEASE_DEATH_STACKS` override.
 *
 * Assertions marked LOCK hold only with the cross-container write lock.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_KEY } from '../../functions/core/adapters/dynamodb-write-lock.ts';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { ENVIRONMENT_ID_HEADER } from '../../local/lambda-pool.ts';
import { captureOutput } from '../support/capture.ts';
import { findLeaks } from '../support/leaks.ts';
import { signedFetch } from '../support/signed-fetch.ts';
import { until } from '../support/until.ts';
import {
  type ConcurrencyStack,
  CURRENT_SECRET,
  freshRound,
  posts,
  SANDBOX_LATENCY_MS,
  startConcurrencyStack,
  writeAccepted,
} from './harness.ts';

const LEASE_SECONDS = 1;
const DEATH_ROUNDS = Number(process.env.LEASE_DEATH_ROUNDS ?? 50);
const DEATH_STACKS = Math.min(DEATH_ROUNDS, Number(process.env.LEASE_DEATH_STACKS ?? 10));
/** The function timeout: the lease lasts at least this plus 2 s. */
const FUNCTION_TIMEOUT_MS = 2_000;
/** How long the dying writer's POST is held at the sandbox: well inside the lease. */
const POST_DELAY_MS = 400;

const output = captureOutput();
const stacks: ConcurrencyStack[] = [];

beforeAll(async () => {
  for (let index = 0; index < DEATH_STACKS; index += 1) {
    stacks.push(
      await startConcurrencyStack({
        environments: 2,
        leaseSeconds: LEASE_SECONDS,
        timeoutMs: FUNCTION_TIMEOUT_MS,
        // 2 s of function time: keep 500 ms back, so 1.5 s of it is the request's deadline.
        handlerEnv: { DEADLINE_SAFETY_MARGIN_MS: '500' },
      }),
    );
  }
}, 90_000);

afterAll(async () => {
  const answers = stacks.flatMap((stack) => stack.caller.answers);
  await Promise.all(stacks.map((stack) => stack.close()));
  const texts = [
    ...answers.map((answer) => answer.body),
    ...answers.map((answer) => JSON.stringify(answer.headers)),
    ...output.lines,
  ];
  expect(findLeaks(texts, [CURRENT_SECRET], SANDBOX_DEFAULTS.clientId)).toEqual([]);
});

async function deathRound(run: ConcurrencyStack, round: number): Promise<void> {
  const dyingName = `Round ${round} dying writer`;
  const nextHook = `https://hooks.example.com/round-${round}/next-writer`;
  // On a machine slow enough the dying writer can end before it reaches its POST (its short function
  // timeout, or the lease it waited for): nothing was written, and the round starts again.
  for (let attempt = 1; ; attempt += 1) {
    const leaseExpiry = await dyingAttempt(run, round, dyingName);
    if (leaseExpiry !== undefined) {
      await nextWriterAfterExpiry(run, round, leaseExpiry, dyingName, nextHook);
      return;
    }
    if (attempt === 5) throw new Error(`round ${round}: the dying writer never reached its POST in 5 tries`);
  }
}

/** One try of a round's first half: the dying writer's lease expiry, or undefined if it never POSTed. */
async function dyingAttempt(
  run: ConcurrencyStack,
  round: number,
  dyingName: string,
): Promise<number | undefined> {
  // A round starts with no live lease: the last round's writer may have kept one (its POST timed out
  // on a busy machine and might still have landed), which would refuse this round's dying writer.
  await leaseFree(run);
  freshRound(run, round);
  // The environment killed last round is replaced before the round, so the next writer is warm.
  await run.pool.warm(2);
  // The dying writer's POST is held at Affix until its holder is killed (then it lands, late): the
  // test, however slow the machine, sees the holder busy mid-write.
  let releasePost: () => void = () => {};
  const postHeld = new Promise<void>((resolve) => {
    releasePost = resolve;
  });
  run.sandbox.injectFault({ kind: 'delay', ms: POST_DELAY_MS, until: postHeld }, { method: 'POST' });
  try {
    return await dieMidWrite(run, round, dyingName, releasePost);
  } finally {
    releasePost();
  }
}

/** The lease's expiry as the table holds it (NaN when no lease is held). */
async function leaseExpiryOf(run: ConcurrencyStack): Promise<number> {
  const lease = await run.table.send(
    new GetItemCommand({
      TableName: run.stack.dynamodb.tableName,
      Key: { pk: { S: LEASE_KEY.pk }, sk: { S: LEASE_KEY.sk } },
      ConsistentRead: true,
    }),
  );
  return Number(lease.Item?.expiresAtMs?.N ?? Number.NaN);
}

/** Waits until no live lease is held (same machine clock as the functions'). */
async function leaseFree(run: ConcurrencyStack): Promise<void> {
  for (;;) {
    const expiry = await leaseExpiryOf(run);
    if (Number.isNaN(expiry) || expiry < Date.now()) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(expiry - Date.now() + 5, 1_000)));
  }
}

/**
 * Starts the dying writer, kills it mid-write and returns its lease's expiry as the table held it;
 * undefined when it answered before it sent its POST.
 */
async function dieMidWrite(
  run: ConcurrencyStack,
  round: number,
  dyingName: string,
  releasePost: () => void,
): Promise<number | undefined> {
  const sandbox = run.sandbox;

  // A signed raw fetch: the killed invocation's 502 is API Gateway's own answer, not one of ours.
  const dying = signedFetch(`${run.stack.apiUrl}/client`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: dyingName }),
  });
  let answered = false;
  const markAnswered = () => {
    answered = true;
  };
  dying.then(markAnswered, markAnswered);
  await until(() => posts(sandbox.requests).length === 1 || answered, { timeoutMs: 30_000, pollMs: 2 });
  if (posts(sandbox.requests).length === 0) {
    await (await dying).arrayBuffer();
    return undefined;
  }
  // The dying writer's lease as the table holds it: when it really ends (same machine clock).
  const leaseExpiry = await leaseExpiryOf(run);
  // Most rounds kill the holder here (or, on a machine slow enough, its function timeout killed it
  // first); every fifth round lets it give its POST up at its own deadline. Either way the POST is
  // still held, and lands late.
  if (round % 5 === 0) {
    await dying;
  } else {
    const holder = run.pool.environments().filter((environment) => environment.state === 'busy');
    expect(holder.length, `round ${round}`).toBeLessThanOrEqual(1);
    if (holder[0] !== undefined) await run.pool.kill(holder[0].id);
  }
  releasePost();
  const died = await dying;
  const diedBody = await died.text();
  if (died.status === 504) {
    // On a machine slow enough, the handler's own deadline passed first while its POST was held: it
    // answered that Affix did not answer in time, and kept the lease, since its POST may still land.
    expect(diedBody, `round ${round}`).toContain('upstream-timeout');
  } else {
    // Killed mid-write: API Gateway's own 502, from no environment.
    expect(died.status, `round ${round}: ${diedBody}`).toBe(502);
    expect(died.headers.get(ENVIRONMENT_ID_HEADER)).toBeNull();
  }
  return leaseExpiry;
}

async function nextWriterAfterExpiry(
  run: ConcurrencyStack,
  round: number,
  leaseExpiry: number,
  dyingName: string,
  nextHook: string,
): Promise<void> {
  const sandbox = run.sandbox;
  const next = await writeAccepted(run, 'PATCH', '/client', { webhook_uri: nextHook });
  expect(next.status, `round ${round}: ${next.body}`).toBe(200);

  const [dyingRead, ...laterReads] = sandbox.requests.filter((request) => request.method === 'GET');
  if (dyingRead === undefined) throw new Error('the dying writer never read');
  // The lease outlives anything the dying invocation could still do after its read (the function
  // timeout), so a killed holder is gone before anyone else can take over.
  expect(leaseExpiry, `round ${round}`).toBeGreaterThanOrEqual(dyingRead.at + FUNCTION_TIMEOUT_MS);
  // LOCK: the next writer read nothing from Affix while the dead holder's lease was live.
  for (const read of laterReads) {
    expect(
      read.at,
      `round ${round}: the next writer read the client ${leaseExpiry - read.at} ms before the lease expired`,
    ).toBeGreaterThanOrEqual(leaseExpiry);
  }
  // Nothing written twice: the dead holder's one POST, then the next writer's, built on it.
  const bodies = posts(sandbox.requests);
  const dyingWrites = bodies.filter((body) => body.name === dyingName && body.webhook_uri !== nextHook);
  expect(dyingWrites, `round ${round}`).toHaveLength(1);
  expect(bodies, `round ${round}`).toHaveLength(2);
  // LOCK: the next writer read what the dead holder's late write left, so both changes are kept.
  expect(bodies[1], `round ${round}`).toMatchObject({ name: dyingName, webhook_uri: nextHook });
  expect(sandbox.client, `round ${round}`).toMatchObject({ name: dyingName, webhook_uri: nextHook });
  // The dead holder's late write had landed before anyone else wrote.
  const postTimes = sandbox.requests.filter((request) => request.method === 'POST').map((r) => r.at);
  expect((postTimes[1] ?? 0) - (postTimes[0] ?? 0)).toBeGreaterThan(POST_DELAY_MS + SANDBOX_LATENCY_MS);
}

describe('a lease holder that dies mid-write', () => {
  it(`the next writer proceeds only after the lease expires, and nothing is written twice (${DEATH_ROUNDS} rounds on ${DEATH_STACKS} stacks)`, async () => {
    await Promise.all(
      stacks.map(async (run, index) => {
        for (let round = index + 1; round <= DEATH_ROUNDS; round += DEATH_STACKS)
          await deathRound(run, round);
      }),
    );
  }, 120_000);
});
