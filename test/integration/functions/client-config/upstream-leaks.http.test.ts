import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AffixSandbox,
  defaultSandboxClient,
  startAffixSandbox,
} from '../../../../local/affix-sandbox.ts';
import { captureOutput } from '../../../support/capture.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../../../support/events.ts';
import { handlerOverFetch } from '../../../support/handler-over-fetch.ts';
import { findLeaks, type LeakCase, leakCorpus } from '../../../support/leaks.ts';

const output = captureOutput();
// No English words in them: a secret holding "secret" would make every message that names the field
// client_secret be withheld, and the tests could not fail.
const NEW_SECRET = 'N3w/x+Zq&amp;Jk=0123vT';
const OLD_SECRET = 'o1D"Yq\\Kp%rm-4567Wz';

const handlerFor = handlerOverFetch;

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
