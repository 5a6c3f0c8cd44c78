/**
 * The journal cursor: what it encodes comes back unchanged, and every cursor this API did not issue
 * (bad encoding, wrong shape, a key outside the journal, extra members) is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { journalSortKey } from '../../../../../functions/core/domain/change-journal.ts';
import {
  decodeCursor,
  encodeCursor,
  MAX_CURSOR_LENGTH,
} from '../../../../../functions/core/domain/journal-cursor.ts';

const SK = journalSortKey(1_796_000_000_000, 'req-1');
const valid = encodeCursor(SK);
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('encodeCursor / decodeCursor', () => {
  it('round-trips a journal sort key', () => {
    const cursor = encodeCursor(SK);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ ok: true, sortKey: SK });
  });

  it('round-trips any sort key journalSortKey writes, within the length limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 15 - 1 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
        (atMs, requestId) => {
          const sk = journalSortKey(atMs, requestId);
          const cursor = encodeCursor(sk);
          expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
          expect(decodeCursor(cursor)).toEqual({ ok: true, sortKey: sk });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('has a non-canonical twin of the issued cursor that Node decodes to the same bytes', () => {
    const twin = noncanonical(valid);
    expect(twin).not.toBe(valid);
    expect(Buffer.from(twin, 'base64url')).toEqual(Buffer.from(valid, 'base64url'));
  });

  it('refuses to encode a key that is not a journal sort key', () => {
    expect(() => encodeCursor('state')).toThrow();
    expect(() => encodeCursor('change#12#req')).toThrow();
    expect(() => encodeCursor(journalSortKey(1, 'x'.repeat(400)))).toThrow(/too long/);
  });

  it.each([
    ['empty', ''],
    ['not base64url (+ and /)', `${valid.slice(0, -2)}+/`],
    ['padded base64', `${valid}==`],
    ['white space', ` ${valid}`],
    ['a character Node would skip', `${valid.slice(0, 4)}.${valid.slice(4)}`],
    ['over the length limit', 'A'.repeat(MAX_CURSOR_LENGTH + 1)],
    ['not canonical (the last character changed in its unused bits)', noncanonical(valid)],
    ['not JSON', b64('change#001796000000000#req-1')],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')],
    ['JSON, not an object', b64('"change#001796000000000#req-1"')],
    ['JSON null', b64('null')],
    ['an array', b64(`[1,"${SK}"]`)],
    ['no version', b64(JSON.stringify({ sk: SK }))],
    ['another version', b64(JSON.stringify({ v: 2, sk: SK }))],
    ['the state item', b64(JSON.stringify({ v: 1, sk: 'state' }))],
    ['another prefix', b64(JSON.stringify({ v: 1, sk: 'lease#001796000000000#req-1' }))],
    ['the prefix alone', b64(JSON.stringify({ v: 1, sk: 'change#' }))],
    ['a time that is not 15 digits', b64(JSON.stringify({ v: 1, sk: 'change#1796000000000#req-1' }))],
    ['no request id', b64(JSON.stringify({ v: 1, sk: 'change#001796000000000#' }))],
    ['a number for sk', b64(JSON.stringify({ v: 1, sk: 7 }))],
    ['a partition key of its own', b64(JSON.stringify({ v: 1, sk: SK, pk: 'other' }))],
    ['an extra member', b64(JSON.stringify({ v: 1, sk: SK, limit: 1000 }))],
    ['a __proto__ member', b64(`{"v":1,"sk":"${SK}","__proto__":{"x":1}}`)],
    ['a DynamoDB key map', b64(JSON.stringify({ pk: { S: 'affix-client' }, sk: { S: SK } }))],
  ])('refuses %s', (_name, cursor) => {
    const decoded = decodeCursor(cursor);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).not.toContain(SK);
  });
});

/** The same bytes with different trailing bits: Node decodes it, but it is not what we issued. */
function noncanonical(cursor: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = cursor.at(-1) ?? 'A';
  const index = alphabet.indexOf(last);
  // Only a cursor whose length leaves unused bits in its last character has a non-canonical twin.
  if (cursor.length % 4 === 0) return `${cursor}A`;
  const twin = alphabet[index ^ 1] ?? 'B';
  return `${cursor.slice(0, -1)}${twin}`;
}
