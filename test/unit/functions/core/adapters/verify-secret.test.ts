/**
 * Does Affix accept a secret: one authenticated GET with the client id and the candidate, through the
 * Affix HTTP client over an injected `fetch` (an in-process function standing for Affix, no socket).
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_PATH } from '../../../../../functions/core/adapters/affix-http.ts';
import { createSecretVerifier } from '../../../../../functions/core/adapters/verify-secret.ts';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import type { AffixPort, CallContext, CredentialsProvider } from '../../../../../functions/core/ports.ts';
import { CLIENT_ID, ETAG_KEY, initialClient, SECRET_A } from '../../../../support/affix-fixtures.ts';

const CANDIDATE = 'secret-CAND-eeee-5555-candidate';
const BASE_URL = 'https://affix.invalid';
const call = (): CallContext => ({ deadline: createDeadline(10_000) });

const basic = (secret: string) => `Basic ${Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64')}`;

/** Affix as a function: accepts `accepted`'s Basic credentials, answers 401 to any other. */
function affix(accepted: string) {
  const seen: { url: string; method: string; authorization: string | null }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    seen.push({
      url: String(input),
      method: init?.method ?? 'GET',
      authorization: headers.get('authorization'),
    });
    if (headers.get('authorization') !== basic(accepted)) {
      return new Response(JSON.stringify({ message: 'unauthorized' }), { status: 401 });
    }
    return Response.json({ ...initialClient(), client_secret: [SECRET_A, CANDIDATE] });
  };
  return { fetch, seen };
}

const proxyCredentials = (): CredentialsProvider & { refreshes: number } => {
  const provider = {
    refreshes: 0,
    get: async () => ({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: ETAG_KEY }),
    refresh: async () => {
      provider.refreshes += 1;
      return { clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: ETAG_KEY };
    },
  };
  return provider;
};

const options = (fetch: typeof globalThis.fetch, credentials = proxyCredentials()) => ({
  baseUrl: BASE_URL,
  credentials,
  attemptTimeoutMs: 10_000,
  maxAttempts: 1,
  fetch,
});

describe('createSecretVerifier', () => {
  it('asks Affix with the client id and the candidate, not the proxy’s own secret', async () => {
    const { fetch, seen } = affix(CANDIDATE);
    await expect(createSecretVerifier(options(fetch))(CANDIDATE, call())).resolves.toBeUndefined();
    expect(seen).toEqual([
      { url: `${BASE_URL}${CLIENT_PATH}`, method: 'GET', authorization: basic(CANDIDATE) },
    ]);
  });

  it('rejects a secret Affix refuses, and never falls back to the proxy’s credentials', async () => {
    const { fetch, seen } = affix(SECRET_A);
    const credentials = proxyCredentials();
    await expect(createSecretVerifier(options(fetch, credentials))(CANDIDATE, call())).rejects.toMatchObject({
      slug: 'upstream-auth-failed',
    });
    // The client's one refresh after a 401 gives the same candidate back.
    expect(seen.map((request) => request.authorization)).toEqual([basic(CANDIDATE), basic(CANDIDATE)]);
    expect(credentials.refreshes).toBe(0);
  });

  it('goes through the decorator it is given (the shared state counts the check)', async () => {
    const { fetch } = affix(CANDIDATE);
    const calls: CallContext[] = [];
    const wrap = (port: AffixPort): AffixPort => ({
      getClient: (c) => {
        calls.push(c);
        return port.getClient(c);
      },
      replaceClient: (update, c) => port.replaceClient(update, c),
    });
    const context = call();
    await createSecretVerifier({ ...options(fetch), wrap })(CANDIDATE, context);
    expect(calls).toEqual([context]);
  });
});
