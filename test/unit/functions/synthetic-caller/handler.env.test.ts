/**
 * The synthetic caller's environment: a truly unset `CLIENT_CONFIG_URL` (the key deleted, not set
 * to undefined) gets our wording, and `SYNTHETIC_TIMEOUT_MS` follows the function's one
 * integer-from-env rule.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../functions/core/adapters/config.ts';
import { parseSyntheticEnv } from '../../../../functions/synthetic-caller/handler.ts';

const BASE = { CLIENT_CONFIG_URL: 'https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod' };

function without(name: string, env: Record<string, string>): Record<string, string> {
  const copy = { ...env };
  delete copy[name];
  return copy;
}

describe('parseSyntheticEnv', () => {
  it('says CLIENT_CONFIG_URL is required when the variable is not there at all', () => {
    const env = without('CLIENT_CONFIG_URL', { ...BASE, STAGE: 'dev' });
    expect(Object.hasOwn(env, 'CLIENT_CONFIG_URL')).toBe(false);
    expect(() => parseSyntheticEnv(env)).toThrow(ConfigError);
    expect(() => parseSyntheticEnv(env)).toThrow('CLIENT_CONFIG_URL is required');
    expect(() => parseSyntheticEnv(env)).not.toThrow(/Invalid key/);
  });

  it('says the same for an empty CLIENT_CONFIG_URL', () => {
    expect(() => parseSyntheticEnv({ CLIENT_CONFIG_URL: '' })).toThrow('CLIENT_CONFIG_URL is required');
  });

  it('defaults SYNTHETIC_TIMEOUT_MS to 10000 and takes a whole number', () => {
    expect(parseSyntheticEnv(BASE).SYNTHETIC_TIMEOUT_MS).toBe(10_000);
    expect(parseSyntheticEnv({ ...BASE, SYNTHETIC_TIMEOUT_MS: '2500' }).SYNTHETIC_TIMEOUT_MS).toBe(2_500);
  });

  it.each([
    ['soon', 'SYNTHETIC_TIMEOUT_MS must be a whole number'],
    ['1.5', 'SYNTHETIC_TIMEOUT_MS must be a whole number'],
    ['0', 'SYNTHETIC_TIMEOUT_MS must be at least 1'],
    ['14001', 'SYNTHETIC_TIMEOUT_MS must be at most 14000'],
  ])('refuses SYNTHETIC_TIMEOUT_MS=%j: %s', (raw, message) => {
    expect(() => parseSyntheticEnv({ ...BASE, SYNTHETIC_TIMEOUT_MS: raw })).toThrow(message);
  });
});
