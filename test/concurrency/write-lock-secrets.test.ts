/**
 * Acceptance of the write lock: writes that hold with several Lambda containers. Real HTTP through the local API
 * into a pool of warm, isolated execution environments (each its own module instance, as in Lambda),
 * the Affix sandbox answering after 50 ms, and the local DynamoDB engine holding the lock's table.
 * Every round starts from a fresh client state; writers send a `write-contention` or timed-out write
 * again, as callers under contention do. (One property per file; the rounds are spread over independent stacks
 * side by side, so the file stays within its time with the lock serializing the writers: see harness.ts.)
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
  posts,
  ROUNDS,
  STACKS,
  statusSummary,
  useConcurrencyStacks,
  writeAccepted,
} from './harness.ts';

/** Concurrent writers per round, each in its own environment. */
const WRITERS = 4;
const newSecrets: string[] = [];
const stacks = useConcurrencyStacks(STACKS, { environments: WRITERS }, newSecrets);

describe('write lock across execution environments', () => {
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
