/** Request bodies before and after parsing: nesting, strict UTF-8, repeated keys, bounded field errors. */
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  MAX_ERROR_TEXT_LENGTH,
  MAX_FIELD_ERRORS,
  MAX_JSON_DEPTH,
} from '../../../../../functions/contract/limits.ts';
import type { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import {
  checkJsonDepth,
  checkNoRepeatedKeys,
  exceedsJsonDepth,
  fieldErrors,
  parseRequestBody,
  strictBodyText,
} from '../../../../../functions/core/domain/schemas.ts';

function refusal(run: () => unknown): ProblemError {
  try {
    run();
  } catch (error) {
    return error as ProblemError;
  }
  throw new Error('accepted');
}

/** Nesting depth of a JSON value, by recursion: what the one-pass scan must agree with. */
const depthOf = (value: unknown): number =>
  value !== null && typeof value === 'object'
    ? 1 + Math.max(0, ...Object.values(value as Record<string, unknown>).map(depthOf))
    : 0;

describe('exceedsJsonDepth', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('allows exactly the limit, refuses one more', () => {
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(exceedsJsonDepth('{"a":{"b":[1]}}', 2)).toBe(true);
    expect(exceedsJsonDepth('{"a":{"b":1}}', 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(exceedsJsonDepth(JSON.stringify({ a: '[[[[[{{{{' }), 1)).toBe(false);
    expect(exceedsJsonDepth(JSON.stringify({ a: 'say \\"[[[" and \\\\' }), 1)).toBe(false);
    expect(exceedsJsonDepth(JSON.stringify(['\\', [[]]]), 2)).toBe(true);
  });

  it('agrees with the recursive depth of any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 8 }), (value, limit) => {
        expect(exceedsJsonDepth(JSON.stringify(value), limit)).toBe(depthOf(value) > limit);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a body nested too deep with json-too-deep', () => {
    expect(refusal(() => checkJsonDepth(nested(MAX_JSON_DEPTH + 1))).slug).toBe('json-too-deep');
    expect(() => checkJsonDepth(nested(MAX_JSON_DEPTH))).not.toThrow();
  });
});

describe('strictBodyText', () => {
  it('passes UTF-8 text through, and decodes a base64 body that is UTF-8', () => {
    expect(strictBodyText({ body: '{"é":1}', isBase64Encoded: false })).toBe('{"é":1}');
    const encoded = Buffer.from('{"é":1}', 'utf8').toString('base64');
    expect(strictBodyText({ body: encoded, isBase64Encoded: true })).toBe('{"é":1}');
    expect(strictBodyText({ body: null, isBase64Encoded: false })).toBe('');
  });

  it('refuses bytes that are not UTF-8, and text with an unpaired surrogate, as malformed-json', () => {
    const latin1 = Buffer.from([0x7b, 0xe9, 0x7d]).toString('base64');
    expect(refusal(() => strictBodyText({ body: latin1, isBase64Encoded: true })).slug).toBe(
      'malformed-json',
    );
    expect(refusal(() => strictBodyText({ body: '{"a":"\ud800"}', isBase64Encoded: false })).slug).toBe(
      'malformed-json',
    );
  });
});

describe('checkNoRepeatedKeys', () => {
  it('refuses a key repeated within one object, at any depth, naming it and where', () => {
    const problem = refusal(() => checkNoRepeatedKeys('{"a":{"name":1,"name":2}}'));
    expect(problem.slug).toBe('malformed-json');
    expect(problem.message).toContain('name');
    expect(problem.message).toContain('/a');
  });

  it('allows the same key in different objects, and leaves text that is not JSON to the parser', () => {
    expect(() => checkNoRepeatedKeys('[{"a":1},{"a":2}]')).not.toThrow();
    expect(() => checkNoRepeatedKeys('{"a":')).not.toThrow();
  });

  it('bounds the message however long the key', () => {
    const key = 'k'.repeat(10_000);
    const problem = refusal(() => checkNoRepeatedKeys(`{"${key}":1,"${key}":2}`));
    expect([...problem.message].length).toBeLessThanOrEqual(MAX_ERROR_TEXT_LENGTH + 1);
  });
});

describe('fieldErrors and parseRequestBody', () => {
  const Schema = v.strictObject({
    name: v.string('name must be a string'),
    'a/b~c': v.optional(v.number('must be a number')),
    list: v.optional(v.array(v.string('each entry must be a string'))),
  });

  it('points at each bad field with an RFC 6901 pointer (~ and / escaped)', () => {
    const problem = refusal(() => parseRequestBody(Schema, { name: 1, 'a/b~c': 'x', list: ['ok', 2] }));
    expect(problem.slug).toBe('validation-failed');
    expect(problem.errors).toEqual([
      { pointer: '/name', detail: 'name must be a string' },
      { pointer: '/a~1b~0c', detail: 'must be a number' },
      { pointer: '/list/1', detail: 'each entry must be a string' },
    ]);
    expect(problem.message).toBe('The request body has 3 invalid field(s).');
  });

  it('lists at most the first 20 bad fields, and says how many there were', () => {
    const problem = refusal(() =>
      parseRequestBody(Schema, { name: 'n', list: Array.from({ length: 30 }, () => 0) }),
    );
    expect(problem.errors).toHaveLength(MAX_FIELD_ERRORS);
    expect(problem.message).toBe(
      `The request body has 30 invalid field(s); the first ${MAX_FIELD_ERRORS} are listed.`,
    );
  });

  it('refuses a body that is not a JSON object', () => {
    for (const body of [null, [], 'text', 3]) {
      const problem = refusal(() => parseRequestBody(Schema, body));
      expect(problem.errors).toEqual([{ pointer: '', detail: 'the body must be a JSON object' }]);
    }
  });

  it('returns the parsed output of a valid body', () => {
    expect(parseRequestBody(Schema, { name: 'n' })).toEqual({ name: 'n' });
  });

  it('bounds a field error’s pointer and detail', () => {
    const long = 'x'.repeat(1_000);
    const [error] = fieldErrors([
      { path: [{ key: long }], message: long } as unknown as v.BaseIssue<unknown>,
    ]);
    expect([...(error?.pointer ?? '')].length).toBeLessThanOrEqual(MAX_ERROR_TEXT_LENGTH + 1);
    expect(error?.detail.endsWith('…')).toBe(true);
  });
});
