/**
 * An independent SigV4 verifier (node:crypto, written from AWS's "Create a signed AWS API request"),
 * so the client's signatures are checked by code that shares nothing with aws4fetch.
 * Header-based signatures only, no S3 rules, which is what `execute-api` uses.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SignedRequest {
  method: string;
  /** The request target: path and query, e.g. `/prod/client`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export function parseAuthorization(value: string | undefined): ParsedAuthorization | undefined {
  const match = AUTHORIZATION.exec(value ?? '');
  if (!match) return undefined;
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as string[];
  return {
    accessKeyId: accessKeyId as string,
    date: date as string,
    region: region as string,
    service: service as string,
    signedHeaders: (signedHeaders as string).split(';'),
    signature: signature as string,
  };
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

/** The signature SigV4 prescribes for this request, given who signs it and which headers are signed. */
export function expectedSignature(
  request: SignedRequest,
  secretAccessKey: string,
  scope: { date: string; region: string; service: string },
  signedHeaders: string[],
): { signature: string; canonicalRequest: string } {
  const target = new URL(request.url, 'http://placeholder');
  // Non-S3 services: each path segment is URI-encoded twice (the received path is encoded once).
  const canonicalUri = target.pathname
    .split('/')
    .map((segment) => uriEncode(uriEncode(decodeURIComponent(segment))))
    .join('/');
  const canonicalQuery = [...target.searchParams]
    .map(([key, value]) => [uriEncode(key), uriEncode(value)])
    .sort(([a = '', x = ''], [b = '', y = '']) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map((pair) => pair.join('='))
    .join('&');
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${headerValue(request.headers, name)}\n`)
    .join('');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    sha256Hex(request.body),
  ].join('\n');
  const amzDate = headerValue(request.headers, 'x-amz-date');
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${secretAccessKey}`, scope.date);
  const kRegion = hmac(kDate, scope.region);
  const kService = hmac(kRegion, scope.service);
  const kSigning = hmac(kService, 'aws4_request');
  return { signature: createHmac('sha256', kSigning).update(stringToSign).digest('hex'), canonicalRequest };
}

export interface VerifyOptions {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
}

/** Why the request's signature is not valid for these credentials, or `undefined` when it is. */
export function sigV4Problem(request: SignedRequest, options: VerifyOptions): string | undefined {
  const auth = parseAuthorization(headerValue(request.headers, 'authorization'));
  if (auth === undefined) return 'no SigV4 Authorization header';
  if (auth.accessKeyId !== options.accessKeyId) return `signed by ${auth.accessKeyId}`;
  if (auth.region !== options.region || auth.service !== options.service) {
    return `scope ${auth.region}/${auth.service}`;
  }
  const amzDate = headerValue(request.headers, 'x-amz-date');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== auth.date) return `x-amz-date ${amzDate}`;
  const sorted = [...auth.signedHeaders].sort();
  if (sorted.join(';') !== auth.signedHeaders.join(';')) return 'SignedHeaders not sorted';
  for (const required of ['host', 'x-amz-date']) {
    if (!auth.signedHeaders.includes(required)) return `${required} is not signed`;
  }
  if (
    request.headers['x-amz-security-token'] !== undefined &&
    !auth.signedHeaders.includes('x-amz-security-token')
  ) {
    return 'x-amz-security-token is not signed';
  }
  const { signature } = expectedSignature(request, options.secretAccessKey, auth, auth.signedHeaders);
  return signature === auth.signature ? undefined : 'signature mismatch';
}
