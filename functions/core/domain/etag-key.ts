/**
 * The ETag key: the HMAC key that makes our ETags unguessable. Stored in SSM as the Base64 of at least
 * {@link ETAG_KEY_MIN_BYTES} random bytes; held as a `KeyObject`, which neither `JSON.stringify` nor a
 * logger can print.
 *
 * @example
 * const key = parseEtagKey(readFileSync('etag-key.b64', 'utf8')); // throws EtagKeyError if weak
 */
import { createSecretKey, type KeyObject } from 'node:crypto';

export type EtagKey = KeyObject;

/** 256 bits: the HMAC-SHA256 block of security, and what `openssl rand -base64 32` makes. */
export const ETAG_KEY_MIN_BYTES = 32;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type EtagKeyProblem = 'EtagKeyNotBase64' | 'EtagKeyTooShort';

/** Why a stored key was refused; the message never holds the value. */
export class EtagKeyError extends Error {
  override readonly name = 'EtagKeyError';
  constructor(readonly reason: EtagKeyProblem) {
    super(
      reason === 'EtagKeyNotBase64'
        ? 'the ETag key is not Base64'
        : `the ETag key is shorter than ${ETAG_KEY_MIN_BYTES} bytes`,
    );
  }
}

/**
 * Decodes and checks a stored key. Surrounding whitespace is ignored (a value put from a file often
 * ends in a newline); anything else that is not canonical Base64 is refused rather than half-decoded.
 */
export function parseEtagKey(stored: string): EtagKey {
  const text = stored.trim();
  if (text === '' || !BASE64.test(text)) throw new EtagKeyError('EtagKeyNotBase64');
  const bytes = Buffer.from(text, 'base64');
  // Non-canonical padding bits would mean two texts for one key: refuse them too.
  if (bytes.toString('base64') !== text) throw new EtagKeyError('EtagKeyNotBase64');
  if (bytes.length < ETAG_KEY_MIN_BYTES) throw new EtagKeyError('EtagKeyTooShort');
  const key = createSecretKey(bytes); // copies the bytes
  bytes.fill(0);
  return key;
}
