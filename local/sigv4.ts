/**
 * SigV4 verification of a received request, as API Gateway's `AWS_IAM` authorization does it, for the
 * local API. Not hand-written crypto: the request is signed again with `@smithy/signature-v4` (the AWS
 * SDK's signer) from what arrived (method, raw path, query, only the headers listed in
 * `SignedHeaders`, the body's SHA-256, `x-amz-date` as the signing date, the access key's secret), and
 * the two signatures are compared in constant time.
 *
 * What API Gateway does and this copies:
 * - the canonical URI is the path as sent (encoded once on the wire), encoded again, with empty and
 *   dot segments removed (AWS's SigV4 test suite: `get-slashes`, `get-relative`);
 * - the payload hash is always the SHA-256 of the body received: `x-amz-content-sha256:
 *   UNSIGNED-PAYLOAD` is an S3 feature that execute-api does not honour (signatures over it do not
 *   match, aws/aws-sdk-js-v3#308), so a header that disagrees with the body is a bad signature;
 * - the scope must be `<date>/us-east-1/execute-api/aws4_request` and `x-amz-date` within 5 minutes;
 * - an unknown access key is "The security token included in the request is invalid"
 *   (`UnrecognizedClientException`), answered with the contract's `INVALID_SIGNATURE` entry;
 * - `x-amz-security-token` is accepted only from signers that have session credentials, must equal
 *   their token, and must be signed.
 *
 * @example
 * const outcome = await verifySigV4({ method, target: req.url, rawHeaders: req.rawHeaders, body }, { signers });
 * if (!outcome.ok) answer(gatewayProblem(outcome.responseType));
 */
import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { GatewayResponseType } from '../functions/contract/gateway-responses.ts';
import { LOCAL_SIGNING_REGION, LOCAL_SIGNING_SERVICE, type LocalSigner } from './identities.ts';

/** API Gateway's allowed clock skew for `x-amz-date`, either way. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface ReceivedRequest {
  method: string;
  /** The request target as received: raw path and query, e.g. `/client?x=1`. */
  target: string;
  /** `IncomingMessage.rawHeaders`: names and values as sent, repeated headers kept. */
  rawHeaders: readonly string[];
  body: Buffer;
}

export interface VerifyOptions {
  signers: readonly LocalSigner[];
  /** Epoch milliseconds; default `Date.now()`. */
  now?: number;
}

export type AuthFailureType = Extract<
  GatewayResponseType,
  'MISSING_AUTHENTICATION_TOKEN' | 'INVALID_SIGNATURE' | 'EXPIRED_TOKEN'
>;

export type SigV4Outcome =
  | { ok: true; signer: LocalSigner }
  /** `reason` is for local diagnostics only; it never holds a secret or the signature. */
  | { ok: false; responseType: AuthFailureType; reason: string };

/** What the smithy signer hashes (its `SourceData`). */
type SourceData = string | ArrayBuffer | ArrayBufferView;

/** Node's SHA-256 (HMAC when keyed) in the `Checksum` shape the smithy signer takes. */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: SourceData | undefined;

  constructor(secret?: SourceData) {
    this.secret = secret;
    this.hash = NodeSha256.create(secret);
  }

  private static create(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = NodeSha256.create(this.secret);
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const fail = (responseType: AuthFailureType, reason: string): SigV4Outcome => ({
  ok: false,
  responseType,
  reason,
});

/** `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` (parameters in any order). */
function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(value.trim());
  if (!match?.[1]) return undefined;
  const params = new Map<string, string>();
  for (const part of match[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    if (params.has(key)) return undefined;
    params.set(key, part.slice(eq + 1).trim());
  }
  const credential = params.get('Credential')?.split('/');
  const signedHeaders = params.get('SignedHeaders');
  const signature = params.get('Signature');
  if (params.size !== 3 || credential?.length !== 5 || credential[4] !== 'aws4_request') return undefined;
  if (
    signedHeaders === undefined ||
    !/^[a-z0-9!#$%&'*+.^_`|~-]+(;[a-z0-9!#$%&'*+.^_`|~-]+)*$/.test(signedHeaders)
  ) {
    return undefined;
  }
  if (signature === undefined || !/^[0-9a-f]{64}$/.test(signature)) return undefined;
  const [accessKeyId, date, region, service] = credential as [string, string, string, string, string];
  if (accessKeyId === '' || !/^\d{8}$/.test(date)) return undefined;
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** Header values by lower-case name, repeated headers joined with `,` (SigV4's canonical form). */
function headerMap(rawHeaders: readonly string[]): Map<string, string> {
  const grouped = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const values = grouped.get(name);
    if (values) values.push(rawHeaders[i + 1] as string);
    else grouped.set(name, [rawHeaders[i + 1] as string]);
  }
  return new Map([...grouped].map(([name, values]) => [name, values.join(',')]));
}

/** The query as SigV4 sees it: every pair percent-decoded (no `+` rule), repeated keys kept. */
function parseQuery(search: string): Record<string, string | string[]> | undefined {
  const query: Record<string, string | string[]> = Object.create(null);
  if (search === '') return query;
  try {
    for (const pair of search.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const key = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
      const value = decodeURIComponent(eq === -1 ? '' : pair.slice(eq + 1));
      const existing = query[key];
      query[key] =
        existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
  } catch {
    return undefined;
  }
  return query;
}

/** `20250102T030405Z` as a Date, or undefined when it is not exactly that form. */
function parseAmzDate(value: string | undefined): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) || date.toISOString().replace(/[-:]|\.\d{3}/g, '') !== value
    ? undefined
    : date;
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Who signed the request, or which of API Gateway's answers it gets. */
export async function verifySigV4(request: ReceivedRequest, options: VerifyOptions): Promise<SigV4Outcome> {
  const headers = headerMap(request.rawHeaders);
  const authorization = headers.get('authorization');
  if (authorization === undefined || authorization.trim() === '') {
    return fail('MISSING_AUTHENTICATION_TOKEN', 'no Authorization header');
  }
  const auth = parseAuthorization(authorization);
  if (auth === undefined) return fail('INVALID_SIGNATURE', 'Authorization is not a complete SigV4 header');

  const signer = options.signers.find((candidate) => candidate.accessKeyId === auth.accessKeyId);
  if (signer === undefined)
    return fail('INVALID_SIGNATURE', 'unknown access key (UnrecognizedClientException)');
  if (auth.region !== LOCAL_SIGNING_REGION || auth.service !== LOCAL_SIGNING_SERVICE) {
    return fail('INVALID_SIGNATURE', `credential scoped to ${auth.region}/${auth.service}`);
  }

  const amzDate = headers.get('x-amz-date');
  const signingDate = parseAmzDate(amzDate);
  if (signingDate === undefined) return fail('INVALID_SIGNATURE', 'no valid x-amz-date header');
  if (amzDate?.slice(0, 8) !== auth.date)
    return fail('INVALID_SIGNATURE', 'x-amz-date is not the scope date');
  const now = options.now ?? Date.now();
  if (Math.abs(now - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    return fail('EXPIRED_TOKEN', 'x-amz-date more than 5 minutes from now');
  }

  const signed = new Set(auth.signedHeaders);
  if (!signed.has('host') || !signed.has('x-amz-date')) {
    return fail('INVALID_SIGNATURE', 'host and x-amz-date must be signed');
  }
  const token = headers.get('x-amz-security-token');
  if (signer.sessionToken === undefined) {
    if (token !== undefined) return fail('INVALID_SIGNATURE', 'a session token from a signer without one');
  } else if (token === undefined || !constantTimeEqual(token, signer.sessionToken)) {
    return fail('INVALID_SIGNATURE', 'missing or wrong session token');
  }

  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const declaredHash = headers.get('x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== bodyHash) {
    return fail('INVALID_SIGNATURE', 'x-amz-content-sha256 is not the hash of the body');
  }

  const queryStart = request.target.indexOf('?');
  const path = queryStart === -1 ? request.target : request.target.slice(0, queryStart);
  const query = parseQuery(queryStart === -1 ? '' : request.target.slice(queryStart + 1));
  if (query === undefined || !path.startsWith('/'))
    return fail('INVALID_SIGNATURE', 'malformed request target');

  // Only the signed headers, as received. The signer adds x-amz-date (from signingDate) and the
  // session token (from the credentials) itself.
  const toSign: Record<string, string> = {};
  for (const name of signed) {
    if (name === 'x-amz-date' || name === 'x-amz-security-token') continue;
    const value = headers.get(name);
    if (value === undefined || name === 'authorization') {
      return fail('INVALID_SIGNATURE', `signed header ${name} is missing or not signable`);
    }
    toSign[name] = value;
  }
  const resigned = await new SignatureV4({
    service: LOCAL_SIGNING_SERVICE,
    region: LOCAL_SIGNING_REGION,
    credentials: {
      accessKeyId: signer.accessKeyId,
      secretAccessKey: signer.secretAccessKey,
      ...(signer.sessionToken === undefined ? {} : { sessionToken: signer.sessionToken }),
    },
    sha256: NodeSha256,
    applyChecksum: false,
  }).sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: headers.get('host') ?? '',
      path,
      query,
      headers: toSign,
      body: request.body,
    },
    // Headers the SDK never signs itself (user-agent, ...) still count when the caller signed them.
    { signingDate, signableHeaders: signed },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(resigned.headers.authorization ?? ''))?.[1] ?? '';
  if (!constantTimeEqual(expected, auth.signature)) return fail('INVALID_SIGNATURE', 'signature mismatch');
  return { ok: true, signer };
}
