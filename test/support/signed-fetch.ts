/**
 * `fetch` signed with SigV4 as a local identity, the way `curl --aws-sigv4 "aws:amz:us-east-1:execute-api"`
 * or the typed client sign: aws4fetch's `AwsV4Signer`, a different implementation from the local
 * API's verifier (`@smithy/signature-v4`), so a passing test is two signers agreeing.
 *
 * @example
 * await signedFetch(`${api.url}/client`, { method: 'GET' }, LOCAL_IDENTITIES.readers);
 */
import { AwsV4Signer } from 'aws4fetch';
import { LOCAL_IDENTITIES, type LocalSigner } from '../../local/identities.ts';

export interface SignedInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface SigningOverrides {
  /** `x-amz-date` / signing time, e.g. `20250102T030405Z`. Default now. */
  datetime?: string;
  region?: string;
  service?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** The signed request (URL, method, headers) without sending it. */
export async function signRequest(
  url: string,
  init: SignedInit = {},
  signer: LocalSigner = LOCAL_IDENTITIES.rotators,
  overrides: SigningOverrides = {},
): Promise<{ url: string; method: string; headers: Headers; body: string | undefined }> {
  const method = init.method ?? 'GET';
  const signed = await new AwsV4Signer({
    url,
    method,
    headers: init.headers ?? {},
    body: init.body,
    accessKeyId: signer.accessKeyId,
    secretAccessKey: overrides.secretAccessKey ?? signer.secretAccessKey,
    sessionToken: overrides.sessionToken ?? signer.sessionToken,
    service: overrides.service ?? 'execute-api',
    region: overrides.region ?? 'us-east-1',
    datetime: overrides.datetime,
  }).sign();
  return { url: signed.url.toString(), method, headers: signed.headers, body: init.body };
}

/** Signs as `signer` (default the rotator, whose group may call every route) and sends. */
export async function signedFetch(
  url: string,
  init: SignedInit = {},
  signer: LocalSigner = LOCAL_IDENTITIES.rotators,
  overrides: SigningOverrides = {},
): Promise<Response> {
  const signed = await signRequest(url, init, signer, overrides);
  return fetch(signed.url, {
    method: signed.method,
    headers: signed.headers,
    body: signed.body,
    signal: init.signal,
  });
}
