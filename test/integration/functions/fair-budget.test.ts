/**
 * The shared, fair Affix budget through the local pool with the sandbox enforcing Affix's documented
 * limits (40 requests per 5 minutes per client id, 40 per minute per IP): readers and forged webhook
 * deliveries spend only their share, so a writer's PATCH, a rotator's PUT and a whole rotation run still
 * go through; and an
 * absurd `Retry-After` from Affix never reaches a caller beyond 300 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUDGET_HEADER, READS_EXHAUSTED, SIGNATURE_HEADER } from '../../../functions/contract/headers.ts';
import { WRITER_RESERVE } from '../../../functions/core/domain/state-item.ts';
import { LOCAL_IDENTITIES } from '../../../local/identities.ts';
import { rotateLocalStack } from '../../../local/rotate.ts';
import { writeStackFile } from '../../../local/stack-file.ts';
import { CURRENT_SECRET, statusSummary, useConcurrencyStack } from '../../concurrency/harness.ts';
import { type Called, createCaller } from '../../support/http-caller.ts';

const ENVIRONMENTS = 4;
const AFFIX_LIMIT = 40;
const stackOf = useConcurrencyStack({
  environments: ENVIRONMENTS,
  sandboxRateLimits: true,
  handlerEnv: { CLIENT_CACHE_MAX_AGE_SECONDS: '30' },
});
const callerAs = (identity: keyof typeof LOCAL_IDENTITIES) =>
  createCaller(() => stackOf().stack.apiUrl, LOCAL_IDENTITIES[identity]);

/** In waves of `width` concurrent requests. */
async function waves(count: number, width: number, one: () => Promise<Called>): Promise<Called[]> {
  const answers: Called[] = [];
  for (let sent = 0; sent < count; sent += width) {
    answers.push(...(await Promise.all(Array.from({ length: Math.min(width, count - sent) }, one))));
  }
  return answers;
}

function retryAfters(answers: readonly Called[]): number[] {
  return answers.flatMap((answer) =>
    answer.headers['retry-after'] === undefined ? [] : [Number(answer.headers['retry-after'])],
  );
}

describe('a fair shared Affix budget', () => {
  it('45 no-cache GETs and 30 forged deliveries leave room for a PATCH and a PUT; a 429 of 86400 s is answered as at most 300 s', async () => {
    const run = stackOf();
    const reader = callerAs('readers');
    const verifier = callerAs('verifiers');
    const writer = callerAs('writers');
    // The suite's own caller signs as the rotator (its answers are checked for secrets afterwards).
    const rotator = run.caller;

    const gets = await waves(45, 3, () =>
      reader.call('GET', '/client', undefined, { 'cache-control': 'no-cache' }),
    );
    // Every GET answered: from Affix while the readers' share lasted, then from the view, saying so.
    for (const answer of gets) expect(answer.status, statusSummary(gets)).toBe(200);
    const fromView = gets.filter((answer) => answer.headers[BUDGET_HEADER] === READS_EXHAUSTED);
    expect(fromView.length).toBeGreaterThan(0);
    for (const answer of fromView) expect(Number(answer.headers.age)).toBeGreaterThanOrEqual(0);
    expect(new Set(gets.map((answer) => answer.headers.etag)).size).toBe(1);

    const forged = await waves(30, 3, () =>
      verifier.call('POST', '/webhooks/verify', { event: 'forged' }, { [SIGNATURE_HEADER]: '0'.repeat(64) }),
    );
    for (const answer of forged) {
      // A mismatch, or (an environment that never read the list, with the share spent) a 429.
      expect([422, 429], answer.body).toContain(answer.status);
    }
    // Readers and verifications together stayed inside their share (a few over, when environments
    // checked the shared count at the same moment), leaving the writers' reserve untouched.
    const spentByReads = run.sandbox.requests.length;
    expect(spentByReads).toBeLessThanOrEqual(AFFIX_LIMIT - WRITER_RESERVE + ENVIRONMENTS - 1);

    const patched = await writer.call('PATCH', '/client', { name: 'Written despite the readers' });
    expect(patched.status, patched.body).toBe(200);
    const put = await rotator.call('PUT', '/client/secrets', { client_secret: [CURRENT_SECRET] });
    expect(put.status, put.body).toBe(200);
    expect(run.sandbox.client.name).toBe('Written despite the readers');
    // And a whole rotation (grace 0: add, verify, store, retire) still fits in the writers' reserve.
    const dir = await mkdtemp(join(tmpdir(), 'fair-budget-'));
    try {
      await writeStackFile(run.stack, join(dir, '.stack.json'));
      const outcome = await rotateLocalStack(join(dir, '.stack.json'), { ROTATION_GRACE_SECONDS: '0' });
      expect(outcome.steps).toEqual(['start', 'store-pending', 'retire', 'steady']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const rotated = run.sandbox.client.client_secret;
    expect(rotated).toHaveLength(1);

    // Affix answers 429 with an absurd Retry-After: nobody is told to wait more than Affix's window.
    run.sandbox.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '86400' } });
    const limited = await writer.call('PATCH', '/client', { name: 'Refused by Affix' });
    writer.expectProblem(limited, 429, 'upstream-rate-limited');
    const after = [
      limited,
      ...(await Promise.all([
        writer.call('PATCH', '/client', { name: 'During the back-off' }),
        reader.call('GET', '/client', undefined, { 'cache-control': 'no-cache' }),
        rotator.call('PUT', '/client/secrets', { client_secret: rotated }),
        verifier.call(
          'POST',
          '/webhooks/verify',
          { event: 'forged' },
          { [SIGNATURE_HEADER]: '1'.repeat(64) },
        ),
      ])),
    ];
    const waits = retryAfters(after);
    expect(waits.length).toBeGreaterThan(1);
    for (const seconds of waits) expect(seconds).toBeLessThanOrEqual(300);
    const everyAnswer = [...gets, ...forged, patched, put, ...after];
    for (const seconds of retryAfters(everyAnswer)) expect(seconds).toBeLessThanOrEqual(300);
    // Every identity's answers join the suite's leak check (no secret in any answer or header).
    run.caller.answers.push(...reader.answers, ...verifier.answers, ...writer.answers);
  }, 120_000);
});
