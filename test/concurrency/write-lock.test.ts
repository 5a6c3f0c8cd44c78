/**
 * Acceptance of the write lock: writes that hold with several Lambda containers. Real HTTP through the local API
 * into a pool of warm, isolated execution environments (each its own module instance, as in Lambda),
 * the Affix sandbox answering after 50 ms, and the local DynamoDB engine holding the lock's table.
 * Every round starts from a fresh client state; writers send a `write-contention` or timed-out write
 * again, as callers under contention do (`writeAccepted`). The three properties run one after another
 * over the same stacks, their rounds spread over independent stacks side by side (see harness.ts):
 * since every round starts from a fresh state, sharing the stacks proves what separate ones would,
 * without starting a pool of environments per property.
 *
 * Assertions marked LOCK hold only with the cross-container write lock: without it every environment
 * reads, checks and POSTs on its own, and a round fails (e.g. "round 1: 4 x 200").
 */
import { describe, expect, it } from 'vitest';
import {
  type ClientField,
  CURRENT_SECRET,
  eachRound,
  environmentsOf,
  expectSerialHistory,
  freshRound,
  modelled,
  posts,
  ROUNDS,
  STACKS,
  statusSummary,
  useConcurrencyStacks,
  writeAccepted,
} from './harness.ts';

/** Concurrent writers per round, each in its own environment. */
const WRITERS = 4;
/** The secrets the rotation property adds: the suite's leak check looks for them too. */
const newSecrets: string[] = [];
const stacks = useConcurrencyStacks(STACKS, { environments: WRITERS }, newSecrets);

describe('write lock across execution environments: PATCHes of different fields', () => {
  it(`${WRITERS} concurrent PATCHes of different fields without If-Match: every accepted change is at Affix (${ROUNDS} rounds)`, async () => {
    await eachRound(stacks(), ROUNDS, async (run, round) => {
      const start = freshRound(run, round);
      const changes: Partial<Record<ClientField, unknown>>[] = [
        { name: `Round ${round} name` },
        { webhook_uri: `https://hooks.example.com/round-${round}/changed` },
        { redirect_uris: [`https://round-${round}.example.com/changed`] },
        { name: `Round ${round} other name` },
      ].slice(0, WRITERS);
      const results = await Promise.all(
        changes.map((change) => writeAccepted(run, 'PATCH', '/client', change)),
      );
      const summary = `round ${round}: ${statusSummary(results)}`;
      expect(environmentsOf(results).size, summary).toBeGreaterThan(1);
      for (const result of results) expect(result.status, summary).toBe(200);
      const bodies = posts(run.sandbox.requests);
      expect(bodies, summary).toHaveLength(changes.length);
      // LOCK: each POST is the state the previous one left plus one change; none undoes another.
      const final = expectSerialHistory(round, start, changes, bodies);
      expect(modelled(run.sandbox.client), summary).toEqual(final);
    });
  }, 120_000);
});

describe('write lock across execution environments: PATCHes with the same If-Match', () => {
  it(`${WRITERS} concurrent PATCHes with the same If-Match: exactly one 200, the others 412, one POST (${ROUNDS} rounds)`, async () => {
    await eachRound(stacks(), ROUNDS, async (run, round) => {
      freshRound(run, round);
      // no-cache: the round's state was set at Affix directly, behind the shared read cache.
      const read = await run.caller.call('GET', '/client', undefined, { 'cache-control': 'no-cache' });
      expect(read.status).toBe(200);
      const etag = read.headers.etag ?? '';
      run.sandbox.resetRequests();
      const results = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) =>
          run.caller.call('PATCH', '/client', { name: `Round ${round} writer ${i}` }, { 'if-match': etag }),
        ),
      );
      // They really ran in separate environments (this holds with or without the lock).
      expect(environmentsOf(results).size, `round ${round}`).toBeGreaterThan(1);
      const summary = `round ${round}: ${statusSummary(results)}`;
      const winners = results.filter((result) => result.status === 200);
      // What the contract allows a loser: 412, or (a busy machine) 503 `write-contention` (nothing sent)
      // or 504 `upstream-timeout` (its POST may or may not have landed).
      for (const loser of results.filter((result) => result.status !== 200)) {
        if (loser.status === 503) run.caller.expectProblem(loser, 503, 'write-contention');
        else if (loser.status === 504) run.caller.expectProblem(loser, 504, 'upstream-timeout');
        else run.caller.expectProblem(loser, 412, 'precondition-failed');
      }
      const timedOut = results.filter((result) => result.status === 504).length;
      // LOCK: among writers holding the same ETag exactly one wins (none only if one timed out).
      expect(winners.length, summary).toBe(timedOut === 0 ? 1 : Math.min(winners.length, 1));
      // LOCK: and only one POST reached Affix, the winner's.
      const sent = posts(run.sandbox.requests);
      expect(sent.length, summary).toBeLessThanOrEqual(1);
      const won = winners[0]?.documented;
      if (won !== undefined) {
        expect(sent, summary).toHaveLength(1);
        expect(won.kind === 'success' && won.client.name, summary).toBe(run.sandbox.client.name);
      }
    });
  }, 120_000);
});

describe('write lock across execution environments: a secret rotation racing PATCHes', () => {
  it(`PUT /client/secrets adding a secret, racing ${WRITERS - 1} PATCHes: the new secret is never lost (${ROUNDS} rounds)`, async () => {
    await eachRound(stacks(), ROUNDS, async (run, round) => {
      const start = freshRound(run, round);
      const added = `round-${round}-added-secret-${'x'.repeat(12)}`;
      newSecrets.push(added);
      const rotation = { client_secret: [CURRENT_SECRET, added] };
      const patches: Partial<Record<ClientField, unknown>>[] = [
        { name: `Round ${round} name` },
        { webhook_uri: `https://hooks.example.com/round-${round}/changed` },
        { redirect_uris: [`https://round-${round}.example.com/changed`] },
      ].slice(0, WRITERS - 1);
      const [put, ...patched] = await Promise.all([
        writeAccepted(run, 'PUT', '/client/secrets', rotation),
        ...patches.map((change) => writeAccepted(run, 'PATCH', '/client', change)),
      ]);
      if (put === undefined) throw new Error('no PUT answer');
      const summary = `round ${round}: PUT ${put.status}, PATCHes ${statusSummary(patched)}`;
      expect(environmentsOf([put, ...patched]).size, summary).toBeGreaterThan(1);
      expect(put.status, summary).toBe(200);
      for (const result of patched) expect(result.status, summary).toBe(200);
      // LOCK: the secret the PUT answered 200 for is at Affix afterwards.
      expect(run.sandbox.client.client_secret, `${summary}: the new secret was lost`).toContain(added);
      // LOCK: and so is every PATCH.
      expectSerialHistory(round, start, [rotation, ...patches], posts(run.sandbox.requests));
    });
  }, 120_000);
});
