/** Text from outside made plain: no control or invisible characters, trimmed, bounded in code points. */
import { describe, expect, it } from 'vitest';
import { boundedText, MAX_UPSTREAM_TEXT_LENGTH } from '../../../../functions/contract/text.ts';

describe('boundedText', () => {
  it('turns runs of control characters into one space and trims', () => {
    expect(boundedText('bad\u0000 value\n')).toBe('bad  value');
    expect(boundedText('a\r\n\tb')).toBe('a b');
    expect(boundedText('\u0007\u001b[31mred\u007f')).toBe('[31mred');
  });

  it('drops invisible characters: zero-width, bidi controls, BOM, soft hyphen', () => {
    expect(boundedText('se\u200bcr\u200det\u2060')).toBe('secret');
    expect(boundedText('\u202eevil\u202c')).toBe('evil');
    expect(boundedText('\ufeffstart\u00ad')).toBe('start');
  });

  it('keeps ordinary text, accents and emoji as they are', () => {
    expect(boundedText('Déjà vu — ok 👍')).toBe('Déjà vu — ok 👍');
  });

  it('cuts at the limit in code points, never inside a surrogate pair, and marks the cut', () => {
    expect([...boundedText('x'.repeat(MAX_UPSTREAM_TEXT_LENGTH))]).toHaveLength(MAX_UPSTREAM_TEXT_LENGTH);
    const cut = boundedText('👍'.repeat(MAX_UPSTREAM_TEXT_LENGTH + 1));
    expect([...cut]).toHaveLength(MAX_UPSTREAM_TEXT_LENGTH + 1);
    expect(cut.endsWith('👍…')).toBe(true);
    expect(boundedText('abcdef', 3)).toBe('abc…');
    expect(boundedText('abc', 3)).toBe('abc');
  });

  it('bounds after cleaning, so removed characters do not count', () => {
    expect(boundedText(`${'\u200b'.repeat(10)}abc`, 3)).toBe('abc');
  });
});
