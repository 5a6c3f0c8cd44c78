/**
 * Step 3's adapter: does Affix accept a secret? One authenticated GET through the same Affix HTTP
 * client, with credentials fixed to the client id and the candidate (a 401 is not retried with
 * another secret: a refresh gives the same candidate back).
 */

import type { AffixPort, CallContext, CredentialsProvider, ProxyCredentials } from '../ports.ts';
import { createAffixHttpClient } from './affix-http.ts';

export interface VerifySecretOptions {
  baseUrl: string;
  /** The proxy's credentials: the client id and the ETag key come from here. */
  credentials: CredentialsProvider;
  attemptTimeoutMs: number;
  maxAttempts: number;
  fetch?: typeof fetch;
  /** Decorates the Affix client (the shared state: the check is counted and refreshes the view). */
  wrap?: (affix: AffixPort) => AffixPort;
}

export function createSecretVerifier(options: VerifySecretOptions) {
  return async (secret: string, context: CallContext): Promise<void> => {
    const proxy = await options.credentials.get();
    const candidate: ProxyCredentials = { ...proxy, clientSecret: secret };
    const fixed: CredentialsProvider = {
      get: () => Promise.resolve(candidate),
      refresh: () => Promise.resolve(candidate),
    };
    const http = createAffixHttpClient({
      baseUrl: options.baseUrl,
      credentials: fixed,
      attemptTimeoutMs: options.attemptTimeoutMs,
      maxAttempts: options.maxAttempts,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    });
    const affix = options.wrap === undefined ? http : options.wrap(http);
    await affix.getClient(context);
  };
}
