/**
 * A change of the secret list through the proxy takes effect for webhook verification in every
 * environment with the next delivery, not after the per-environment list's 60 s: each verification
 * compares its cached list with the one the shared state last recorded, and reads Affix again when they
 * differ. Environment A makes the change; environment B, holding the old list, verifies next (A is kept
 * busy by a read held at the sandbox, so the pool must send the delivery to B).
 */
import { describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER } from '../../functions/contract/headers.ts';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { ENVIRONMENT_ID_HEADER } from '../../local/lambda-pool.ts';
import { signDelivery } from '../../local/webhook-delivery.ts';
import type { Answer } from '../support/answers.ts';
import { type Called, createCaller } from '../support/http-caller.ts';
import { findLeaks } from '../support/leaks.ts';
import { until } from '../support/until.ts';
import { CURRENT_SECRET, useConcurrencyStack } from './harness.ts';

const ADDED_SECRET = 'sandbox-secret-bbbbbbbbbbbbbbbb';
const stackOf = useConcurrencyStack({ environments: 2 }, [ADDED_SECRET]);

/** The answers of the readers that held the first environment busy: checked for secrets too. */
const readerAnswers: Answer[] = [];
const delivery = { added: [], removed: [{ id: 'employee-1' }], updated: [] };

/** Runs `work` while the first idle environment is busy with a no-cache read held at the sandbox. */
async function withFirstEnvironmentBusy<T>(work: () => Promise<T>): Promise<{ held: Called; result: T }> {
  const run = stackOf();
  const reader = createCaller(() => run.stack.apiUrl, LOCAL_IDENTITIES.readers);
  let release: () => void = () => {};
  const until_ = new Promise<void>((resolve) => {
    release = resolve;
  });
  const readsBefore = run.sandbox.requests.filter((request) => request.method === 'GET').length;
  run.sandbox.injectFault({ kind: 'delay', ms: 0, until: until_ }, { method: 'GET' });
  const held = reader.call('GET', '/client', undefined, { 'cache-control': 'no-cache' });
  try {
    await until(
      () => run.sandbox.requests.filter((request) => request.method === 'GET').length > readsBefore,
      { timeoutMs: 30_000, pollMs: 2 },
    );
    const result = await work();
    release();
    const answered = await held;
    readerAnswers.push(...reader.answers);
    return { held: answered, result };
  } finally {
    release();
  }
}

describe('a change of the secret list reaches webhook verification in every environment at once', () => {
  it('a secret added in one environment verifies in another at once, and once removed is refused there at once', async () => {
    const run = stackOf();
    const verifier = createCaller(() => run.stack.apiUrl, LOCAL_IDENTITIES.verifiers);
    const verify = () =>
      verifier.call('POST', '/webhooks/verify', delivery, {
        [SIGNATURE_HEADER]: signDelivery(new TextEncoder().encode(JSON.stringify(delivery)), ADDED_SECRET),
      });

    const added = await run.caller.call('PUT', '/client/secrets', {
      client_secret: [CURRENT_SECRET, ADDED_SECRET],
    });
    expect(added.status, added.body).toBe(200);
    const first = await withFirstEnvironmentBusy(verify);
    expect(first.held.status, first.held.body).toBe(200);
    const writer = first.held.headers[ENVIRONMENT_ID_HEADER];
    const other = first.result.headers[ENVIRONMENT_ID_HEADER];
    expect(added.headers[ENVIRONMENT_ID_HEADER]).toBe(writer);
    expect(other).not.toBe(writer);
    expect(first.result.status, first.result.body).toBe(200);

    const removed = await run.caller.call('PUT', '/client/secrets', { client_secret: [CURRENT_SECRET] });
    expect(removed.status, removed.body).toBe(200);
    expect(removed.headers[ENVIRONMENT_ID_HEADER]).toBe(writer);
    const second = await withFirstEnvironmentBusy(verify);
    expect(second.held.headers[ENVIRONMENT_ID_HEADER]).toBe(writer);
    // The environment that verified with the added secret a moment ago refuses it now.
    expect(second.result.headers[ENVIRONMENT_ID_HEADER]).toBe(other);
    verifier.expectProblem(second.result, 422, 'signature-mismatch');

    const after = await run.caller.call('GET', '/client', undefined, { 'cache-control': 'no-cache' });
    expect(JSON.parse(after.body).client_secret).toHaveLength(1);
    const texts = [...verifier.answers, ...readerAnswers].flatMap((answer) => [
      answer.body,
      JSON.stringify(answer.headers),
    ]);
    expect(findLeaks(texts, [CURRENT_SECRET, ADDED_SECRET], SANDBOX_DEFAULTS.clientId)).toEqual([]);
  });
});
