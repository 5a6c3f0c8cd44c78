/**
 * Acceptance of the write lock: writes that hold with several Lambda containers. Real HTTP through the local API
 * into a pool of warm, isolated execution environments (each its own module instance, as in Lambda),
 * the Affix sandbox answering after 50 ms, and the local DynamoDB engine holding the lock's table.
 * Every round starts from a fresh client state. (One property per file; the rounds are spread over independent stacks
 * side by side, so the file stays within its time with the lock serializing the writers: see harness.ts.)
 *
 * Assertions marked LOCK hold only with the cross-container write lock: without it every environment
 * reads, checks and POSTs on its own, and a round fails (e.g. "round 1: 4 x 200").
 */
import { describe, expect, it } from 'vitest';
import {
  type ClientField,
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
const stacks = useConcurrencyStacks(STACKS, { environments: WRITERS });

describe('write lock across execution environments', () => {
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
