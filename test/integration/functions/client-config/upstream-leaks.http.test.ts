/**
 * The leak tests of `test/unit/functions/client-config/app.upstream-leaks.test.ts` over real HTTP: the
 * real middy chain and Affix HTTP client against the Affix sandbox on a loopback port, Affix answering
 * 400 with a secret in a sample of every encoding of the corpus (`test/support/leaks.ts`). Zero leaks,
 * in answers and in every captured log line.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAffixHttpClient } from '../../../../functions/client-config/affix-http.ts';
import { createHandler } from '../../../../functions/client-config/app.ts';
import { createCredentialsCache } from '../../../../functions/client-config/credentials.ts';
import type { AffixCredentials } from '../../../../functions/client-config/ports.ts';
import {
  type AffixSandbox,
  defaultSandboxClient,
  startAffixSandbox,
} from '../../../../local/affix-sandbox.ts';
import { ETAG_KEY } from '../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../support/capture.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../../../support/events.ts';
import { createInMemoryWriteLock } from '../../../support/in-memory-write-lock.ts';
import { findLeaks, type LeakCase, leakCorpus } from '../../../support/leaks.ts';

const output = captureOutput();
// No English words in them: a secret holding "secret" would make every message that names the field
// client_secret be withheld, and the tests could not fail.
const NEW_SECRET = 'N3w/x+Zq&amp;Jk=0123vT';
const OLD_SECRET = 'o1D"Yq\\Kp%rm-4567Wz';

function handlerFor(fetchImpl: typeof fetch, baseUrl: string, credentials: AffixCredentials) {
  const cache = createCredentialsCache({
    maxAgeMs: 300_000,
    load: async () => ({ ...credentials, etagKey: ETAG_KEY }),
  });
  const affix = createAffixHttpClient({
    baseUrl,
    credentials: cache,
    attemptTimeoutMs: 2_000,
    maxAttempts: 1,
    fetch: fetchImpl,
  });
  return createHandler({
    config: { upstreamDeadlineMs: 3_000, deadlineSafetyMarginMs: 100 },
    ports: { affix, credentials: cache, writeLock: createInMemoryWriteLock() },
    logger: new Logger({ serviceName: 'affix-webhook-config' }),
    metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
  });
}

describe('Affix 400 messages over real HTTP (the Affix sandbox)', () => {
  let sandbox: AffixSandbox;
  beforeAll(async () => {
    sandbox = await startAffixSandbox({ port: 0 });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('PUT removing an old secret, PATCH and GET: a sample of every encoding, 0 leaks', async () => {
    const base = defaultSandboxClient();
    // Our own secret for this run (the sandbox's default holds the word "secret", see above).
    const ours = 'Hs7Kq2Vx9LmP4wZr-http';
    const credentials = { clientId: base.client_id, clientSecret: ours };
    const requests: [EventOptions, 'GET' | 'POST'][] = [
      [{ method: 'PUT', path: '/client/secrets', body: { client_secret: [ours, NEW_SECRET] } }, 'POST'],
      [{ method: 'PATCH', path: '/client', body: { name: 'Over HTTP' } }, 'POST'],
      [{ method: 'GET', path: '/client' }, 'GET'],
    ];
    // One placement per encoding (the in-memory suite runs them all), for both secrets.
    const sample = (secret: string): LeakCase[] =>
      leakCorpus(secret, base.client_id).filter((_, index) => index % 3 === (secret === ours ? 0 : 2));
    const leaks: string[] = [];
    let calls = 0;
    for (const [request, method] of requests) {
      // A fresh container's GET knows only our own secret (SECURITY.md says so); the writes read the
      // client first, so they know the old secret too.
      const leaked = method === 'GET' ? sample(ours) : [...sample(ours), ...sample(OLD_SECRET)];
      for (const leakCase of leaked) {
        sandbox.setClient({ ...base, client_secret: [ours, OLD_SECRET] });
        sandbox.injectFault({ kind: 'status', status: 400, body: leakCase.body }, { method });
        const handler = handlerFor(fetch, sandbox.url, credentials);
        const from = output.lines.length;
        const result = await handler(apiEvent(request), lambdaContext());
        calls += 1;
        expect(result.statusCode, result.body).toBe(422);
        sandbox.clearFaults();
        const found = findLeaks(
          [result.body, ...output.lines.slice(from)],
          [ours, OLD_SECRET, NEW_SECRET],
          base.client_id,
        );
        if (found.length > 0)
          leaks.push(`${request.method} ${leakCase.form}: ${found.map((leak) => leak.form).join(', ')}`);
      }
    }
    expect(calls).toBeGreaterThan(150);
    expect(leaks).toEqual([]);
  });
});
