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
  eachRound,
  environmentsOf,
  freshRound,
  posts,
  ROUNDS,
  STACKS,
  statusSummary,
  useConcurrencyStacks,
} from './harness.ts';

/** Concurrent writers per round, each in its own environment. */
const WRITERS = 4;
const stacks = useConcurrencyStacks(STACKS, { environments: WRITERS });

describe('write lock across execution environments', () => {
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
