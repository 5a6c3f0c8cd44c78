import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/core/adapters/config.ts';
import { parseIntegerVariable } from '../../../local/env-integer.ts';

describe('parseIntegerVariable (the function config rule, for the local tools)', () => {
  it.each([
    [undefined, 3000],
    ['', 3000],
    ['0', 0],
    ['65535', 65_535],
    [' 8080 ', 8080],
  ])('%j gives %i', (raw, expected) => {
    expect(parseIntegerVariable('PORT', raw, 3000, 0, 65_535)).toBe(expected);
  });

  it.each([
    ['65536', 'PORT must be at most 65535, got "65536"'],
    ['-1', 'PORT must be a whole number, got "-1"'],
    ['3e3', 'PORT must be a whole number, got "3e3"'],
    ['http', 'PORT must be a whole number, got "http"'],
  ])('rejects %j in the config wording', (raw, message) => {
    const attempt = () => parseIntegerVariable('PORT', raw, 3000, 0, 65_535);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('checks the lower bound', () => {
    expect(() => parseIntegerVariable('LAMBDA_CONCURRENCY', '0', 4, 1, 64)).toThrow(
      'LAMBDA_CONCURRENCY must be at least 1, got "0"',
    );
  });
});
