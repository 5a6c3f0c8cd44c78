/**
 * Affix's webhook signature, checked without knowing in advance which secret signed: the header
 * `x-affix-api-signature` is the hex HMAC-SHA256 of the exact body bytes keyed with one of the client's
 * secrets (which one, when there are several, Affix does not document).
 *
 * Pure: no I/O. Every secret is tried (no early exit), each comparison is `timingSafeEqual` on equal-length
 * buffers, so the time taken tells nothing about how much of a signature was right or which secret matched.
 *
 * @example
 * const signature = parseSignatureHeader(event.headers['x-affix-api-signature']);
 * if (signature.ok) matchingSecret(body, signature.digest, ['secret-a', 'secret-b']); // 'secret-b' | undefined
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SIGNATURE_HEADER } from '../../contract/headers.ts';

export { SIGNATURE_HEADER };

/** SHA-256 digests are 32 bytes: 64 hex digits. */
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

export type ParsedSignature =
  | { ok: true; digest: Buffer }
  | { ok: false; reason: 'missing' | 'empty' | 'not-hex' };

/** The header's digest; surrounding white space is ignored, hex digits in either case. */
export function parseSignatureHeader(value: string | undefined): ParsedSignature {
  if (value === undefined) return { ok: false, reason: 'missing' };
  const trimmed = value.trim();
  if (trimmed === '') return { ok: false, reason: 'empty' };
  if (!HEX_DIGEST.test(trimmed)) return { ok: false, reason: 'not-hex' };
  return { ok: true, digest: Buffer.from(trimmed, 'hex') };
}

export function signatureOf(body: Uint8Array, secret: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** The secret whose HMAC of `body` is `digest`, or undefined. Tries every secret whatever the result. */
export function matchingSecret(
  body: Uint8Array,
  digest: Buffer,
  secrets: readonly string[],
): string | undefined {
  let match: string | undefined;
  for (const secret of secrets) {
    const expected = signatureOf(body, secret);
    // Equal lengths always (both 32 bytes), which timingSafeEqual requires.
    if (expected.length === digest.length && timingSafeEqual(expected, digest) && match === undefined) {
      match = secret;
    }
  }
  return match;
}
