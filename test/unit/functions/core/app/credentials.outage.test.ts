/**
 * An SSM outage during `PUT /client/secrets`: the lock-out guard still refuses
 * without a fresh read (503 `credentials-unavailable`, nothing sent to Affix), and the failed refresh
 * evicts nothing, so later reads keep being served with the last good credentials.
 */
import { describe, expect, it } from 'vitest';
import { createCredentialsCache } from '../../../../../functions/core/app/credentials.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import { createAffixSandbox } from '../../../../../local/affix-sandbox.ts';
import {
  CLIENT_ID,
  ETAG_KEY,
  initialClient,
  SECRET_A,
  SECRET_B,
} from '../../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { chainOverFetch } from '../../../../support/chain-over-fetch.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../../../../support/events.ts';

captureOutput();

function harness() {
  const affix = createAffixSandbox({ client: initialClient() });
  const ssm = { down: false, loads: 0 };
  const credentials = createCredentialsCache({
    maxAgeMs: 300_000,
    load: async () => {
      ssm.loads += 1;
      if (ssm.down) {
        throw new ProblemError('credentials-unavailable', 'The Affix credentials could not be read.');
      }
      return { clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: ETAG_KEY };
    },
  });
  const handler = chainOverFetch({ credentials, fetch: affix.fetch });
  const invoke = async (options: EventOptions) => {
    const result = await handler(apiEvent(options), lambdaContext());
    return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, unknown> };
  };
  return { affix, ssm, invoke };
}

const GET: EventOptions = { method: 'GET', path: '/client' };
const put = (list: string[]): EventOptions => ({
  method: 'PUT',
  path: '/client/secrets',
  body: { client_secret: list },
});

describe('refresh() during an SSM outage', () => {
  it('PUT /client/secrets answers 503 credentials-unavailable and sends nothing; later GETs still answer 200', async () => {
    const h = harness();
    expect((await h.invoke(GET)).status).toBe(200);
    h.ssm.down = true;
    // The list keeps the cached secret, so only a missing fresh read can refuse it.
    const refused = await h.invoke(put([SECRET_A, SECRET_B]));
    expect(refused.status).toBe(503);
    expect(refused.json.type).toBe('urn:affix-webhook-config:problem:credentials-unavailable');
    expect(h.affix.requests.filter((call) => call.method === 'POST')).toHaveLength(0);
    const loads = h.ssm.loads;
    for (let i = 0; i < 3; i += 1) expect((await h.invoke(GET)).status).toBe(200);
    expect(h.ssm.loads).toBe(loads);
  });

  it('once SSM answers again the same PUT goes through', async () => {
    const h = harness();
    await h.invoke(GET);
    h.ssm.down = true;
    expect((await h.invoke(put([SECRET_A, SECRET_B]))).status).toBe(503);
    h.ssm.down = false;
    const done = await h.invoke(put([SECRET_A, SECRET_B]));
    expect(done.status).toBe(200);
    expect(h.affix.client.client_secret).toEqual([SECRET_A, SECRET_B]);
  });
});
