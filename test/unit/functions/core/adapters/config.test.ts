import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../../../functions/core/adapters/config.ts';
import { DEFAULT_JOURNAL_RETENTION_DAYS } from '../../../../../functions/core/domain/change-journal.ts';

const valid = {
  AFFIX_BASE_URL: 'https://api.affixapi.com/',
  AFFIX_CLIENT_ID_PARAMETER: '/affix/dev/client-id',
  AFFIX_CLIENT_SECRET_PARAMETER: '/affix/dev/client-secret',
  STATE_TABLE_NAME: 'affix-webhook-config-dev-state',
  ETAG_KEY_PARAMETER: '/affix/dev/etag-key',
};

describe('loadConfig', () => {
  it('applies the documented defaults and strips the trailing slash of the base URL', () => {
    expect(loadConfig(valid)).toEqual({
      affixBaseUrl: 'https://api.affixapi.com',
      clientIdParameter: '/affix/dev/client-id',
      clientSecretParameter: '/affix/dev/client-secret',
      etagKeyParameter: '/affix/dev/etag-key',
      credentialsMaxAgeMs: 300_000,
      upstreamAttemptTimeoutMs: 5_000,
      upstreamDeadlineMs: 10_000,
      upstreamMaxAttempts: 3,
      deadlineSafetyMarginMs: 1_000,
      stateTableName: 'affix-webhook-config-dev-state',
      writeLockLeaseMs: 30_000,
      clientCacheMaxAgeSeconds: 30,
      affixRequestsPerWindow: 40,
      journalRetentionDays: 400,
      stage: undefined,
    });
  });

  it('reads JOURNAL_RETENTION_DAYS as a whole number of days from 1 to 3650', () => {
    expect(loadConfig(valid).journalRetentionDays).toBe(DEFAULT_JOURNAL_RETENTION_DAYS);
    expect(loadConfig({ ...valid, JOURNAL_RETENTION_DAYS: '1' }).journalRetentionDays).toBe(1);
    expect(loadConfig({ ...valid, JOURNAL_RETENTION_DAYS: ' 3650 ' }).journalRetentionDays).toBe(3_650);
    expect(() => loadConfig({ ...valid, JOURNAL_RETENTION_DAYS: '0' })).toThrow(
      /JOURNAL_RETENTION_DAYS must be at least 1/,
    );
    expect(() => loadConfig({ ...valid, JOURNAL_RETENTION_DAYS: '3651' })).toThrow(
      /JOURNAL_RETENTION_DAYS must be at most 3650/,
    );
    expect(() => loadConfig({ ...valid, JOURNAL_RETENTION_DAYS: '30.5' })).toThrow(
      /JOURNAL_RETENTION_DAYS must be a whole number/,
    );
  });

  it('reads CLIENT_CACHE_MAX_AGE_SECONDS with the integer rule: 0 turns the cache off', () => {
    expect(loadConfig({ ...valid, CLIENT_CACHE_MAX_AGE_SECONDS: '0' }).clientCacheMaxAgeSeconds).toBe(0);
    expect(loadConfig({ ...valid, CLIENT_CACHE_MAX_AGE_SECONDS: ' 120 ' }).clientCacheMaxAgeSeconds).toBe(
      120,
    );
    expect(() => loadConfig({ ...valid, CLIENT_CACHE_MAX_AGE_SECONDS: '-1' })).toThrow(
      /CLIENT_CACHE_MAX_AGE_SECONDS must be a whole number/,
    );
    expect(() => loadConfig({ ...valid, CLIENT_CACHE_MAX_AGE_SECONDS: '3601' })).toThrow(
      /CLIENT_CACHE_MAX_AGE_SECONDS must be at most 3600/,
    );
  });

  it('reads every override', () => {
    const config = loadConfig({
      ...valid,
      CREDENTIALS_MAX_AGE_SECONDS: '60',
      UPSTREAM_ATTEMPT_TIMEOUT_MS: '2000',
      UPSTREAM_DEADLINE_MS: '8000',
      UPSTREAM_MAX_ATTEMPTS: '2',
      DEADLINE_SAFETY_MARGIN_MS: '500',
      WRITE_LOCK_LEASE_SECONDS: '45',
      STAGE: 'prod',
    });
    expect(config).toMatchObject({
      credentialsMaxAgeMs: 60_000,
      upstreamAttemptTimeoutMs: 2_000,
      upstreamDeadlineMs: 8_000,
      upstreamMaxAttempts: 2,
      deadlineSafetyMarginMs: 500,
      writeLockLeaseMs: 45_000,
      stage: 'prod',
    });
  });

  it('accepts http:// only for loopback hosts', () => {
    expect(loadConfig({ ...valid, AFFIX_BASE_URL: 'http://127.0.0.1:4010' }).affixBaseUrl).toBe(
      'http://127.0.0.1:4010',
    );
    expect(loadConfig({ ...valid, AFFIX_BASE_URL: 'http://localhost:4010' }).affixBaseUrl).toBe(
      'http://localhost:4010',
    );
    expect(() => loadConfig({ ...valid, AFFIX_BASE_URL: 'http://api.affixapi.com' })).toThrow(
      /AFFIX_BASE_URL must use https/,
    );
    expect(loadConfig({ ...valid, AFFIX_BASE_URL: 'http://[::1]:4010/' }).affixBaseUrl).toBe(
      'http://[::1]:4010',
    );
  });

  it('keeps the canonical form of the base URL', () => {
    expect(loadConfig({ ...valid, AFFIX_BASE_URL: 'HTTPS://API.AffixAPI.com:443' }).affixBaseUrl).toBe(
      'https://api.affixapi.com',
    );
  });

  // A truly unset variable: the key is absent (as in process.env), not present and undefined.
  it.each([
    'AFFIX_BASE_URL',
    'AFFIX_CLIENT_ID_PARAMETER',
    'AFFIX_CLIENT_SECRET_PARAMETER',
    'ETAG_KEY_PARAMETER',
    'STATE_TABLE_NAME',
  ])('says "%s is required" in our words when the variable is unset', (name) => {
    const env: Record<string, string | undefined> = { ...valid };
    delete env[name];
    expect(name in env).toBe(false);
    expect(() => loadConfig(env)).toThrow(new ConfigError(`Invalid configuration: ${name} is required`));
  });

  it('names every unset variable, and only in our words', () => {
    let message = '';
    try {
      loadConfig({});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'Invalid configuration: AFFIX_BASE_URL is required; AFFIX_CLIENT_ID_PARAMETER is required; ' +
        'AFFIX_CLIENT_SECRET_PARAMETER is required; ETAG_KEY_PARAMETER is required; STATE_TABLE_NAME is required',
    );
    expect(message).not.toMatch(/Invalid key|Expected/);
  });

  it.each([
    [{ AFFIX_BASE_URL: undefined }, /AFFIX_BASE_URL is required/],
    [{ AFFIX_BASE_URL: 'not a url' }, /AFFIX_BASE_URL must consist of printable ASCII/],
    [{ AFFIX_BASE_URL: 'api.affixapi.com' }, /AFFIX_BASE_URL must be an absolute URL/],
    [
      { AFFIX_BASE_URL: 'https://user:pw@api.affixapi.com' },
      /AFFIX_BASE_URL must not contain a user:password@/,
    ],
    // The request bodies' URL rule (urls.ts): no reading of the string differs from the one checked.
    [{ AFFIX_BASE_URL: 'http://0177.0.0.1:4010' }, /AFFIX_BASE_URL must be written the way URL parsers/],
    [{ AFFIX_BASE_URL: 'https://0x7f.1:4010' }, /AFFIX_BASE_URL must be written the way URL parsers/],
    [{ AFFIX_BASE_URL: 'http://localhost\\@evil.example' }, /AFFIX_BASE_URL must consist of printable/],
    [{ AFFIX_BASE_URL: 'https://api.affixapi.com/?v=1' }, /AFFIX_BASE_URL must not contain a \?query/],
    [{ AFFIX_BASE_URL: 'https://api.affixapi.com/#x' }, /AFFIX_BASE_URL must not contain a #fragment/],
    [{ AFFIX_CLIENT_ID_PARAMETER: '' }, /AFFIX_CLIENT_ID_PARAMETER is required/],
    [
      { AFFIX_CLIENT_SECRET_PARAMETER: 'has spaces in it' },
      /AFFIX_CLIENT_SECRET_PARAMETER must be an SSM parameter name/,
    ],
    [{ ETAG_KEY_PARAMETER: undefined }, /ETAG_KEY_PARAMETER is required/],
    [{ ETAG_KEY_PARAMETER: 'etag key' }, /ETAG_KEY_PARAMETER must be an SSM parameter name/],
    [
      { ETAG_KEY_PARAMETER: '/affix/dev/client-secret' },
      /ETAG_KEY_PARAMETER must name its own parameter, not an Affix credential/,
    ],
    [
      { ETAG_KEY_PARAMETER: '/affix/dev/client-id' },
      /ETAG_KEY_PARAMETER must name its own parameter, not an Affix credential/,
    ],
    [{ CREDENTIALS_MAX_AGE_SECONDS: 'soon' }, /CREDENTIALS_MAX_AGE_SECONDS must be a whole number/],
    [{ CREDENTIALS_MAX_AGE_SECONDS: '0' }, /CREDENTIALS_MAX_AGE_SECONDS must be at least 1/],
    [{ UPSTREAM_DEADLINE_MS: '29000' }, /UPSTREAM_DEADLINE_MS must be at most 25000/],
    [
      { UPSTREAM_ATTEMPT_TIMEOUT_MS: '9000', UPSTREAM_DEADLINE_MS: '5000' },
      /must not exceed UPSTREAM_DEADLINE_MS/,
    ],
    [{ UPSTREAM_MAX_ATTEMPTS: '9' }, /UPSTREAM_MAX_ATTEMPTS must be at most 5/],
    // Below 500 ms the backstop's 504 could come less than 250 ms after the last Affix send.
    [{ DEADLINE_SAFETY_MARGIN_MS: '250' }, /DEADLINE_SAFETY_MARGIN_MS must be at least 500/],
    [{ STATE_TABLE_NAME: undefined }, /STATE_TABLE_NAME is required/],
    [{ STATE_TABLE_NAME: 'ab' }, /STATE_TABLE_NAME must be a DynamoDB table name/],
    [{ STATE_TABLE_NAME: 'has spaces' }, /STATE_TABLE_NAME must be a DynamoDB table name/],
    [{ WRITE_LOCK_LEASE_SECONDS: '0' }, /WRITE_LOCK_LEASE_SECONDS must be at least 1/],
    [{ WRITE_LOCK_LEASE_SECONDS: '901' }, /WRITE_LOCK_LEASE_SECONDS must be at most 900/],
  ])('fails loudly, naming the variable: %o', (override, message) => {
    expect(() => loadConfig({ ...valid, ...override })).toThrow(ConfigError);
    expect(() => loadConfig({ ...valid, ...override })).toThrow(message);
  });

  it('never echoes a value in its message', () => {
    const secretLooking = 'https://user:hunter2-secret@api.affixapi.com';
    expect(() => loadConfig({ ...valid, AFFIX_BASE_URL: secretLooking })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});
