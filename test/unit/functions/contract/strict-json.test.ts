/**
 * I-JSON input: strict UTF-8 decoding, and the scanner that finds repeated keys at any depth. The
 * scanner is checked against JSON.parse on what is JSON at all, and against bodies built with a
 * repeated key at a known place.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeUtf8Strictly,
  hasLoneSurrogate,
  pointerToken,
  printableKey,
  scanJson,
} from '../../../../functions/contract/strict-json.ts';

const parses = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('decodeUtf8Strictly', () => {
  it.each([
    ['0xff', [0x7b, 0xff, 0x7d]],
    ['overlong C0 AF', [0x22, 0xc0, 0xaf, 0x22]],
    ['a surrogate in UTF-8 (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['above U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
  ])('refuses %s', (_name, bytes) => {
    expect(decodeUtf8Strictly(new Uint8Array(bytes))).toBeUndefined();
  });

  it('decodes UTF-8 as it is, a byte order mark included', () => {
    expect(decodeUtf8Strictly(new TextEncoder().encode('{"name":"ünïcødé ✓ 😀"}'))).toBe(
      '{"name":"ünïcødé ✓ 😀"}',
    );
    expect(decodeUtf8Strictly(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('\uFEFF{}');
  });

  it('gives back exactly what any well-formed string encodes to', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(decodeUtf8Strictly(new TextEncoder().encode(text))).toBe(text);
      }),
    );
  });

  it('refuses every byte string the lossy decoder would change', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        const lossy = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
        const roundTrips = Buffer.from(new TextEncoder().encode(lossy)).equals(Buffer.from(bytes));
        expect(decodeUtf8Strictly(bytes) !== undefined).toBe(roundTrips);
      }),
    );
  });
});

describe('hasLoneSurrogate', () => {
  it('finds unpaired surrogates only', () => {
    expect(hasLoneSurrogate('a\uD800b')).toBe(true);
    expect(hasLoneSurrogate('a\uDC00')).toBe(true);
    expect(hasLoneSurrogate('😀 \uD83D\uDE00')).toBe(false);
    // An escape in JSON text is ASCII: the decoded value is the name rule's business.
    expect(hasLoneSurrogate('"\\ud800"')).toBe(false);
  });
});

describe('scanJson', () => {
  it.each([
    ['{"webhook_uri":"http://evil","webhook_uri":"https://ok.example.com/"}', 'webhook_uri', '/webhook_uri'],
    ['{"a":{"b":[{"c":1,"c":2}]}}', 'c', '/a/b/0/c'],
    ['[1,{"x":1},{"y":1,"y":2}]', 'y', '/2/y'],
    ['{"a":1,"\\u0061":2}', 'a', '/a'],
    ['{"a/b~":1, "a/b~" :2}', 'a/b~', '/a~1b~0'],
    ['{"__proto__":1,"__proto__":2}', '__proto__', '/__proto__'],
    ['{"":1,"":2}', '', '/'],
  ])('finds the repeated key in %s', (text, key, pointer) => {
    expect(scanJson(text)).toEqual({ ok: false, reason: 'duplicate-key', key, pointer });
  });

  it('reports the first repeat in document order', () => {
    expect(scanJson('{"a":{"x":1,"x":2},"a":3}')).toMatchObject({ key: 'x', pointer: '/a/x' });
  });

  it.each(['{"a":1,"a":2', '{"a":1,"a":2}x', '{"a":1,"a":}'])(
    'calls %s a syntax error, not a repeat',
    (text) => {
      expect(scanJson(text)).toEqual({ ok: false, reason: 'syntax' });
    },
  );

  it('accepts the same key in different objects', () => {
    expect(scanJson('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}')).toEqual({ ok: true });
  });

  it('copes with nesting far deeper than any body (no recursion)', () => {
    expect(scanJson(`${'['.repeat(50_000)}${']'.repeat(50_000)}`)).toEqual({ ok: true });
  });

  it('accepts any JSON.stringify output, indented or not', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        expect(scanJson(JSON.stringify(value, null, indent))).toEqual({ ok: true });
      }),
    );
  });

  it('agrees with JSON.parse on what is JSON, for texts near JSON', () => {
    // JSON text with one character inserted, removed or replaced (by a JSON-significant one mostly).
    const significant = fc.constantFrom(...'{}[]:,"\\ \t\n0-1.eE+tfnu'.split(''), '\u0000', '\u2028', 'x');
    const nearJson = fc
      .tuple(
        fc.jsonValue({ maxDepth: 3 }),
        fc.nat(),
        fc.constantFrom('insert', 'remove', 'replace'),
        significant,
      )
      .map(([value, position, edit, character]) => {
        const text = JSON.stringify(value);
        const at = position % (text.length + 1);
        if (edit === 'insert') return text.slice(0, at) + character + text.slice(at);
        if (edit === 'remove') return text.slice(0, at) + text.slice(at + 1);
        return text.slice(0, at) + character + text.slice(at + 1);
      });
    fc.assert(
      fc.property(fc.oneof(nearJson, fc.string({ maxLength: 12 })), (text) => {
        expect(scanJson(text).ok === true || (scanJson(text) as { reason: string }).reason !== 'syntax').toBe(
          parses(text),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('finds a key repeated at any place, however it is spelled', () => {
    const key = fc.string({ maxLength: 6 });
    /** A key in another spelling that JSON.parse reads as the same string: every unit as \uXXXX. */
    const spell = (text: string, escaped: boolean) =>
      escaped
        ? `"${[...Array(text.length).keys()].map((i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`
        : JSON.stringify(text);
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('object' as const),
        key,
        before: fc.dictionary(key, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
      }),
      fc.record({
        kind: fc.constant('array' as const),
        before: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 4 }),
        key,
        fc.boolean(),
        fc.jsonValue({ maxDepth: 1 }),
        (path, repeated, escaped, filler) => {
          // The innermost object: `repeated` twice, the second spelled `escaped` or plain.
          let text = `{${JSON.stringify(repeated)}:${JSON.stringify(filler)},${spell(repeated, escaped)}:0}`;
          let pointer = `/${pointerToken(repeated)}`;
          for (const level of [...path].reverse()) {
            if (level.kind === 'array') {
              const items = level.before.map((item) => JSON.stringify(item));
              pointer = `/${items.length}${pointer}`;
              text = `[${[...items, text].join(',')}]`;
            } else {
              const others = Object.entries(level.before).filter(([other]) => other !== level.key);
              const members = others.map(
                ([other, value]) => `${JSON.stringify(other)}:${JSON.stringify(value)}`,
              );
              pointer = `/${pointerToken(level.key)}${pointer}`;
              text = `{${[...members, `${JSON.stringify(level.key)}:${text}`].join(',')}}`;
            }
          }
          expect(parses(text)).toBe(true);
          expect(scanJson(text)).toEqual({ ok: false, reason: 'duplicate-key', key: repeated, pointer });
        },
      ),
    );
  });
});

describe('printableKey', () => {
  it('shows printable ASCII as is and escapes the rest', () => {
    expect(printableKey('webhook_uri')).toBe('"webhook_uri"');
    expect(printableKey('a\u202Eb\n"\\')).toBe('"a\\u202eb\\u000a\\u0022\\u005c"');
    expect(printableKey('k'.repeat(150))).toBe(`"${'k'.repeat(100)}…"`);
  });

  it('never lets anything but printable ASCII through', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (key) => {
        expect(printableKey(key)).toMatch(/^[\x20-\x7e]*…?"$/u);
      }),
    );
  });
});
