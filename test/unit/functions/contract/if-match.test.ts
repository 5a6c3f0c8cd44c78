/**
 * If-Match read by RFC 9110's grammar: what parses, what does not, and the strong comparison.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ifMatchAllows, parseIfMatch } from '../../../../functions/contract/if-match.ts';

const CURRENT = '"H4zGLj5ObcTrhKEUTuGG4a"';

describe('parseIfMatch', () => {
  it('reads no header as unconditional', () => {
    expect(parseIfMatch(undefined)).toEqual({ ok: true, value: undefined });
    expect(parseIfMatch([])).toEqual({ ok: true, value: undefined });
  });

  it.each([
    ['*', { kind: 'any' }],
    [' * ', { kind: 'any' }],
    [CURRENT, { kind: 'tags', tags: [CURRENT] }],
    ['"a", W/"b" ,"c"', { kind: 'tags', tags: ['"a"', 'W/"b"', '"c"'] }],
    ['"a",,"b",', { kind: 'tags', tags: ['"a"', '"b"'] }],
    ['""', { kind: 'tags', tags: ['""'] }],
    // A comma is an etagc: inside the quotes it is part of the tag.
    ['"a,b"', { kind: 'tags', tags: ['"a,b"'] }],
    ['\t"a"\t,\t"b"', { kind: 'tags', tags: ['"a"', '"b"'] }],
  ])('accepts %s', (value, parsed) => {
    expect(parseIfMatch([value])).toEqual({ ok: true, value: parsed });
  });

  it.each([
    'abc',
    'H4zGLj5ObcTrhKEUTuGG4a',
    `junk${CURRENT}junk`,
    `${CURRENT}junk`,
    `junk${CURRENT}`,
    '"a""b"',
    '"a" "b"',
    '*, "a"',
    '"a", *',
    '**',
    'w/"a"',
    'W/ "a"',
    '"a',
    '"a b"',
    '"a\\"b"',
    '"a\u0000"',
    '"a"; q=1',
  ])('refuses %s as syntax', (value) => {
    expect(parseIfMatch([value])).toEqual({ ok: false, reason: 'syntax' });
  });

  it.each(['', ' ', ',', ' , ,'])('refuses %j as naming no tag', (value) => {
    expect(parseIfMatch([value])).toEqual({ ok: false, reason: 'empty' });
  });

  it('refuses several If-Match fields, whatever they hold', () => {
    expect(parseIfMatch(['"wrong"', '*'])).toEqual({ ok: false, reason: 'several' });
    expect(parseIfMatch([CURRENT, CURRENT])).toEqual({ ok: false, reason: 'several' });
  });

  it('reads back any list of tags it is given, with any spacing', () => {
    const opaque = fc.stringMatching(/^[\x21\x23-\x7e]{0,12}$/);
    const tag = fc.tuple(fc.boolean(), opaque).map(([weak, text]) => `${weak ? 'W/' : ''}"${text}"`);
    const space = fc.constantFrom('', ' ', '\t', '  ');
    fc.assert(
      fc.property(fc.array(fc.tuple(space, tag, space), { minLength: 1, maxLength: 5 }), (items) => {
        const value = items.map(([before, text, after]) => `${before}${text}${after}`).join(',');
        expect(parseIfMatch([value])).toEqual({
          ok: true,
          value: { kind: 'tags', tags: items.map(([, t]) => t) },
        });
      }),
    );
  });
});

describe('ifMatchAllows', () => {
  it('holds for no precondition, *, and a strongly equal tag only', () => {
    expect(ifMatchAllows(undefined, CURRENT)).toBe(true);
    expect(ifMatchAllows({ kind: 'any' }, CURRENT)).toBe(true);
    expect(ifMatchAllows({ kind: 'tags', tags: ['"x"', CURRENT] }, CURRENT)).toBe(true);
    expect(ifMatchAllows({ kind: 'tags', tags: ['"x"'] }, CURRENT)).toBe(false);
    expect(ifMatchAllows({ kind: 'tags', tags: [`W/${CURRENT}`] }, CURRENT)).toBe(false);
  });
});
