import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, parseJsonKeepingNumbers } from '../../../../../functions/core/domain/schemas.ts';

describe('parseJsonKeepingNumbers', () => {
  it('keeps the text of numbers a JS number would change, and leaves ordinary numbers plain', () => {
    const text =
      '{"big":12345678901234567890123,"id":9007199254740993,"money":1.50,"huge":1e400,"tiny":5e-400,"n":[1,2.5,-0,-3],"s":"1.50"}';
    const value = parseJsonKeepingNumbers(text) as Record<string, unknown>;
    expect(JSON.stringify(value)).toBe(text);
    const [one, half, , minusThree] = value.n as unknown[];
    expect([one, half, minusThree]).toEqual([1, 2.5, -3]);
    expect(value.s).toBe('1.50');
  });
  it('is JSON.parse for everything else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(JSON.stringify(parseJsonKeepingNumbers(text))).toBe(JSON.stringify(JSON.parse(text)));
      }),
    );
  });
  it('throws on malformed JSON like JSON.parse', () => {
    expect(() => parseJsonKeepingNumbers('{"a":')).toThrow(SyntaxError);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps kept numbers as their text', () => {
    const value = parseJsonKeepingNumbers('{"b":{"y":1,"x":[{"d":1.0,"c":2}]},"a":null,"é":true,"Z":"z"}');
    expect(canonicalJson(value)).toBe('{"Z":"z","a":null,"b":{"x":[{"c":2,"d":1.0}],"y":1},"é":true}');
  });
  it('does not depend on key order, and tells different values apart', () => {
    const shuffle = (value: unknown, seed: number): unknown => {
      if (Array.isArray(value)) return value.map((item) => shuffle(item, seed));
      if (value === null || typeof value !== 'object') return value;
      const entries = Object.entries(value);
      const rotated = entries
        .slice(seed % Math.max(entries.length, 1))
        .concat(entries.slice(0, seed % Math.max(entries.length, 1)));
      return Object.fromEntries(rotated.reverse().map(([key, item]) => [key, shuffle(item, seed + 1)]));
    };
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.nat(), (a, b, seed) => {
        expect(canonicalJson(shuffle(a, seed))).toBe(canonicalJson(a));
        const sameJson =
          JSON.stringify(JSON.parse(canonicalJson(a))) === JSON.stringify(JSON.parse(canonicalJson(b)));
        expect(canonicalJson(a) === canonicalJson(b)).toBe(sameJson);
      }),
    );
  });
  it('refuses what is not JSON', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });
});
