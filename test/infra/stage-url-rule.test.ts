/**
 * The stage files' `affixBaseUrl` goes through the contract's URL rule (functions/contract/urls.ts) with
 * https:// only: a deployed stage never talks to a loopback host, `[::1]` included.
 */
import { describe, expect, it } from 'vitest';
import { validateStageConfig } from '../../infra/stages.ts';
import { BASIC } from './fixtures.ts';

const accepted = (affixBaseUrl: string) => {
  try {
    validateStageConfig('basic', { ...BASIC, affixBaseUrl });
    return true;
  } catch {
    return false;
  }
};

describe('stage files: the URL rule, https only', () => {
  it('accepts https://', () => {
    expect(accepted('https://api.affixapi.com')).toBe(true);
    expect(accepted('https://[::1]:4010')).toBe(true);
  });

  it.each(['http://[::1]:4010', 'http://127.0.0.1:4010', 'http://localhost:4010', 'http://api.affixapi.com'])(
    'refuses plain http:// even on a loopback host: %s',
    (url) => {
      expect(accepted(url)).toBe(false);
    },
  );
});
