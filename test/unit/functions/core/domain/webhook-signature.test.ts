/** Affix's webhook signature: the hex HMAC-SHA256 of the exact body bytes under one of the secrets. */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  matchingSecret,
  parseSignatureHeader,
  signatureOf,
} from '../../../../../functions/core/domain/webhook-signature.ts';

const body = Buffer.from('{"type":"employee.created"}');
const hex = (secret: string, bytes: Uint8Array = body) =>
  createHmac('sha256', secret).update(bytes).digest('hex');

describe('parseSignatureHeader', () => {
  it('takes 64 hex digits in either case, ignoring surrounding white space', () => {
    const digest = hex('s');
    const parsed = parseSignatureHeader(` ${digest.toUpperCase()}\t`);
    expect(parsed.ok && parsed.digest.toString('hex')).toBe(digest);
  });

  it.each([
    [undefined, 'missing'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['abc', 'not-hex'],
    [`${'a'.repeat(63)}g`, 'not-hex'],
    ['a'.repeat(65), 'not-hex'],
    [`sha256=${'a'.repeat(64)}`, 'not-hex'],
  ])('refuses %j as %s', (value, reason) => {
    expect(parseSignatureHeader(value)).toEqual({ ok: false, reason });
  });
});

describe('matchingSecret', () => {
  it('finds the secret that signed, whichever of several it is', () => {
    const secrets = ['secret-one', 'secret-two', 'secret-three'];
    expect(matchingSecret(body, signatureOf(body, 'secret-two'), secrets)).toBe('secret-two');
    expect(matchingSecret(body, Buffer.from(hex('secret-three'), 'hex'), secrets)).toBe('secret-three');
  });

  it('finds none for another secret, another body, or no secrets', () => {
    expect(matchingSecret(body, signatureOf(body, 'secret-x'), ['secret-one'])).toBeUndefined();
    expect(
      matchingSecret(Buffer.from(`${body} `), signatureOf(body, 'secret-one'), ['secret-one']),
    ).toBeUndefined();
    expect(matchingSecret(body, signatureOf(body, 'secret-one'), [])).toBeUndefined();
  });

  it('accepts exactly the right HMAC: the signing secret’s, and no digest that differs in any bit', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.nat({ max: 255 }),
        (bytes, secrets, pick, bit) => {
          const signer = secrets[pick % secrets.length] as string;
          const digest = signatureOf(bytes, signer);
          expect(digest.toString('hex')).toBe(hex(signer, bytes));
          expect(matchingSecret(bytes, digest, secrets)).toBe(signer);
          const flipped = Buffer.from(digest);
          flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
          expect(matchingSecret(bytes, flipped, secrets)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a digest of the wrong length without throwing', () => {
    expect(matchingSecret(body, signatureOf(body, 'a').subarray(0, 16), ['a'])).toBeUndefined();
  });
});
