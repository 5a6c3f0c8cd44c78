import { describe, expect, it } from 'vitest';
import { createAffixSandbox } from '../../../../../local/affix-sandbox.ts';
import { CLIENT_ID, initialClient } from '../../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../../../../support/events.ts';
import { handlerOverFetch } from '../../../../support/handler-over-fetch.ts';
import { findLeaks, leakCorpus } from '../../../../support/leaks.ts';

const output = captureOutput();
// No English words in them: a secret holding "secret" would make every message that names the field
// client_secret be withheld, and the tests could not fail.
const OURS = 'Q7vLk2mZp9XwR4tN8sBd';
const OTHER = 'B8rTq2Lx5WmZ9kPv-Hy';
const NEW_SECRET = 'N3w/x+Zq&amp;Jk=0123vT';
const OLD_SECRET = 'o1D"Yq\\Kp%rm-4567Wz';

const handlerFor = handlerOverFetch;

interface Scenario {
  label: string;
  request: EventOptions;
  /** The secret Affix repeats, and the client's secrets before the request. */
  leaked: string;
  before: string[];
  method: 'GET' | 'POST';
}

const SCENARIOS: Scenario[] = [
  {
    label: 'GET, our own secret',
    request: { method: 'GET', path: '/client' },
    leaked: OURS,
    before: [OURS],
    method: 'GET',
  },
  {
    label: 'PATCH, a secret of the client it sends back',
    request: { method: 'PATCH', path: '/client', body: { name: 'Leak Test' } },
    leaked: OTHER,
    before: [OURS, OTHER],
    method: 'POST',
  },
  {
    label: 'PUT, the new secret',
    request: { method: 'PUT', path: '/client/secrets', body: { client_secret: [OURS, NEW_SECRET] } },
    leaked: NEW_SECRET,
    before: [OURS],
    method: 'POST',
  },
  {
    label: 'PUT, the old secret it removes',
    request: { method: 'PUT', path: '/client/secrets', body: { client_secret: [OURS, NEW_SECRET] } },
    leaked: OLD_SECRET,
    before: [OURS, OLD_SECRET],
    method: 'POST',
  },
];

const ALL_SECRETS = [OURS, OTHER, NEW_SECRET, OLD_SECRET];

describe('Affix 400 messages through the real chain (in-memory fetch)', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.label}: every form of the corpus, 0 leaks in answers and logs`, async () => {
      const cases = leakCorpus(scenario.leaked, CLIENT_ID);
      const leaks: string[] = [];
      for (const leakCase of cases) {
        const affix = createAffixSandbox({
          client: { ...initialClient(), client_secret: [...scenario.before] },
        });
        affix.injectFault({ kind: 'status', status: 400, body: leakCase.body }, { method: scenario.method });
        const handler = handlerFor(affix.fetch, 'https://affix.test', {
          clientId: CLIENT_ID,
          clientSecret: OURS,
        });
        const from = output.lines.length;
        const result = await handler(apiEvent(scenario.request), lambdaContext());
        expect(result.statusCode, result.body).toBe(422);
        expect(JSON.parse(result.body).detail).toMatch(
          /^Affix rejected the change\. Its message is withheld/,
        );
        const found = findLeaks(
          [result.body, JSON.stringify(result.headers), ...output.lines.slice(from)],
          ALL_SECRETS,
          CLIENT_ID,
        );
        if (found.length > 0) leaks.push(`${leakCase.form}: ${found.map((leak) => leak.form).join(', ')}`);
      }
      expect(leaks).toEqual([]);
      expect(cases.length).toBeGreaterThan(150);
    });
  }

  it('a GET knows the secrets of the client this container read last', async () => {
    const affix = createAffixSandbox({ client: { ...initialClient(), client_secret: [OURS, OTHER] } });
    const handler = handlerFor(affix.fetch, 'https://affix.test', {
      clientId: CLIENT_ID,
      clientSecret: OURS,
    });
    expect((await handler(apiEvent({ method: 'GET', path: '/client' }), lambdaContext())).statusCode).toBe(
      200,
    );
    affix.injectFault(
      {
        kind: 'status',
        status: 400,
        body: { message: `unknown secret ${Buffer.from(OTHER).toString('base64url')}` },
      },
      { method: 'GET' },
    );
    const result = await handler(apiEvent({ method: 'GET', path: '/client' }), lambdaContext());
    expect(findLeaks([result.body], [OTHER], CLIENT_ID)).toEqual([]);
    expect(JSON.parse(result.body).detail).toMatch(/withheld/);
  });

  it('passes an ordinary Affix message on', async () => {
    const affix = createAffixSandbox({ client: { ...initialClient(), client_secret: [OURS] } });
    affix.injectFault(
      {
        kind: 'status',
        status: 400,
        body: { message: 'Bad Request', validation_error: 'redirect_uris: too many' },
      },
      { method: 'POST' },
    );
    const handler = handlerFor(affix.fetch, 'https://affix.test', {
      clientId: CLIENT_ID,
      clientSecret: OURS,
    });
    const result = await handler(
      apiEvent({ method: 'PATCH', path: '/client', body: { name: 'Plain' } }),
      lambdaContext(),
    );
    expect(JSON.parse(result.body).detail).toBe(
      'Affix rejected the change: Bad Request: redirect_uris: too many',
    );
  });
});
