/** The ETag key as SSM stores it: canonical Base64 of at least 32 bytes, held as a KeyObject. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ETAG_KEY_MIN_BYTES,
  EtagKeyError,
  parseEtagKey,
} from '../../../../../functions/core/domain/etag-key.ts';

const bytes = randomBytes(ETAG_KEY_MIN_BYTES);
const stored = bytes.toString('base64');

function refusal(text: string): EtagKeyError {
  try {
    parseEtagKey(text);
  } catch (error) {
    if (error instanceof EtagKeyError) return error;
    throw error;
  }
  throw new Error('the key was accepted');
}

describe('parseEtagKey', () => {
  it('decodes the stored Base64 into a secret key with exactly those bytes', () => {
    const key = parseEtagKey(stored);
    expect(key.type).toBe('secret');
    expect(key.export().equals(bytes)).toBe(true);
  });

  it('ignores surrounding white space (a value put from a file ends in a newline)', () => {
    expect(parseEtagKey(`  ${stored}\n`).export().equals(bytes)).toBe(true);
  });

  it('accepts longer keys', () => {
    const long = randomBytes(64);
    expect(parseEtagKey(long.toString('base64')).export().equals(long)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['blank', ' \n'],
    ['not Base64', 'not a key at all!'],
    ['Base64url', randomBytes(33).toString('base64url').replace(/^./, '-')],
    ['white space inside', `${stored.slice(0, 8)} ${stored.slice(8)}`],
    ['missing padding', stored.replace(/=+$/, '')],
  ])('refuses a value that is %s', (_, text) => {
    expect(refusal(text).reason).toBe('EtagKeyNotBase64');
  });

  it('refuses non-canonical padding bits (two texts for one key)', () => {
    // 32 bytes end in one padding character; the last data character carries 2 unused bits.
    const last = stored.at(-2) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const tampered = `${stored.slice(0, -2)}${alphabet[alphabet.indexOf(last) ^ 1]}=`;
    expect(Buffer.from(tampered, 'base64').equals(bytes)).toBe(true);
    expect(refusal(tampered).reason).toBe('EtagKeyNotBase64');
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(refusal(randomBytes(ETAG_KEY_MIN_BYTES - 1).toString('base64')).reason).toBe('EtagKeyTooShort');
  });

  it('never puts the value in its message, and a parsed key prints as nothing', () => {
    const short = randomBytes(16).toString('base64');
    expect(refusal(short).message).not.toContain(short);
    expect(refusal(`${stored}!`).message).not.toContain(stored);
    expect(JSON.stringify({ key: parseEtagKey(stored) })).not.toContain(stored.slice(0, 8));
  });
});
