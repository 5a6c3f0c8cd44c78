/**
 * The characters a client's name refuses, each class over its whole range, and what it keeps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  codePointLabel,
  forbiddenNameCharacter,
  nameCharacterProblem,
} from '../../../../functions/contract/display-name.ts';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('forbiddenNameCharacter', () => {
  const classes: [string, number[]][] = [
    ['bidi-control', [...range(0x202a, 0x202e), ...range(0x2066, 0x2069), 0x200e, 0x200f, 0x061c]],
    ['line-separator', [0x2028, 0x2029]],
    ['tag-character', range(0xe0000, 0xe007f)],
    [
      'noncharacter',
      [
        ...range(0xfdd0, 0xfdef),
        ...range(0, 16).flatMap((plane) => [plane * 0x10000 + 0xfffe, plane * 0x10000 + 0xffff]),
      ],
    ],
  ];

  it.each(classes)('refuses every %s', (kind, codePoints) => {
    for (const codePoint of codePoints) {
      const name = `App ${String.fromCodePoint(codePoint)} name`;
      expect(forbiddenNameCharacter(name), codePointLabel(codePoint)).toEqual({ codePoint, kind });
    }
  });

  it('counts 66 noncharacters, as Unicode does', () => {
    expect(classes[3]?.[1]).toHaveLength(66);
  });

  it('refuses the bidi override of the issue and says why, naming the code point only', () => {
    const problem = nameCharacterProblem('Invoice\u202Egnp.exe');
    expect(problem).toBe(
      'name must not contain U+202E: it is a bidirectional control, which changes the order in which the name is displayed',
    );
    expect(problem).not.toContain('\u202E');
  });

  it('keeps letters of every script, emoji (with their joiners and variation selectors) and marks', () => {
    for (const name of [
      'Test App',
      'ünïcødé ✓',
      'تطبيق',
      'אפליקציה',
      '应用',
      '👩‍💻 App',
      '❤️',
      'e\u0301',
      'Zero\u200Bwidth',
    ]) {
      expect(forbiddenNameCharacter(name), name).toBeUndefined();
    }
  });

  it('finds a forbidden character wherever it is', () => {
    const forbidden = fc.constantFrom(
      0x202e,
      0x2066,
      0x200f,
      0x061c,
      0x2028,
      0xe0041,
      0xfdd0,
      0x1fffe,
      0x10ffff,
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 10 }),
        forbidden,
        fc.string({ maxLength: 10 }),
        (before, codePoint, after) => {
          const found = forbiddenNameCharacter(`${before}${String.fromCodePoint(codePoint)}${after}`);
          expect(found).toBeDefined();
        },
      ),
    );
  });
});
