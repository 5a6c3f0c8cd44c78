import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../functions/core/adapters/config.ts';
import { loadRotationConfig } from '../../../../functions/secret-rotation/config.ts';

const BASE = {
  AFFIX_BASE_URL: 'https://api.affixapi.com',
  AFFIX_CLIENT_ID_PARAMETER: '/affix/dev/client-id',
  AFFIX_CLIENT_SECRET_PARAMETER: '/affix/dev/client-secret',
  ETAG_KEY_PARAMETER: '/affix/dev/etag-key',
  STATE_TABLE_NAME: 'state-table',
};

describe('loadRotationConfig', () => {
  it('defaults to a 24 h grace, a 30-day interval and SSM default key', () => {
    expect(loadRotationConfig(BASE)).toMatchObject({
      graceSeconds: 86_400,
      intervalSeconds: 30 * 86_400,
      kmsKeyId: undefined,
      clientSecretParameter: '/affix/dev/client-secret',
    });
  });

  it('reads the journal retention as the client-config function does (its rotation entries expire alike)', () => {
    expect(loadRotationConfig(BASE).journalRetentionDays).toBe(400);
    expect(loadRotationConfig({ ...BASE, JOURNAL_RETENTION_DAYS: '30' }).journalRetentionDays).toBe(30);
    expect(() => loadRotationConfig({ ...BASE, JOURNAL_RETENTION_DAYS: '0' })).toThrow(
      /JOURNAL_RETENTION_DAYS must be at least 1/,
    );
  });

  it('allows a grace of 0 and takes the KMS key', () => {
    const config = loadRotationConfig({ ...BASE, ROTATION_GRACE_SECONDS: '0', SECRET_KMS_KEY_ID: 'alias/k' });
    expect(config.graceSeconds).toBe(0);
    expect(config.kmsKeyId).toBe('alias/k');
  });

  it('names a bad variable without echoing its value', () => {
    const attempt = () => loadRotationConfig({ ...BASE, ROTATION_GRACE_SECONDS: 'secret-looking-value' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/ROTATION_GRACE_SECONDS must be a whole number/);
    expect(attempt).not.toThrow(/secret-looking-value/);
    expect(() => loadRotationConfig({ ...BASE, ROTATION_INTERVAL_DAYS: '0' })).toThrow(/at least 1/);
  });
});
