/** The numbers the API promises, and how the documents spell byte sizes. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_BODY_BYTES,
  formatBytes,
  MAX_ERROR_TEXT_LENGTH,
  MAX_FIELD_ERRORS,
  MAX_JSON_DEPTH,
  MAX_UPSTREAM_BODY_BYTES,
  WEBHOOK_MAX_BODY_BYTES,
} from '../../../../functions/contract/limits.ts';

describe('formatBytes', () => {
  it('names whole MiB and KiB, and plain bytes otherwise', () => {
    expect(formatBytes(DEFAULT_MAX_BODY_BYTES)).toBe('16 KiB');
    expect(formatBytes(WEBHOOK_MAX_BODY_BYTES)).toBe('5 MiB');
    expect(formatBytes(MAX_UPSTREAM_BODY_BYTES)).toBe('1 MiB');
    expect(formatBytes(1536)).toBe('1536 bytes');
    expect(formatBytes(1000)).toBe('1000 bytes');
    expect(formatBytes(3 * 1024 * 1024 + 1024)).toBe('3073 KiB');
  });
});

describe('the limits', () => {
  it('keep a webhook delivery under Lambda’s 6 MB synchronous payload once in the event', () => {
    // The event carries the body as text inside JSON; 6 MB is 6,000,000 bytes for the whole payload.
    expect(WEBHOOK_MAX_BODY_BYTES).toBeLessThan(6_000_000);
    expect(DEFAULT_MAX_BODY_BYTES).toBeLessThan(WEBHOOK_MAX_BODY_BYTES);
  });

  it('are positive integers', () => {
    for (const limit of [
      DEFAULT_MAX_BODY_BYTES,
      WEBHOOK_MAX_BODY_BYTES,
      MAX_JSON_DEPTH,
      MAX_FIELD_ERRORS,
      MAX_ERROR_TEXT_LENGTH,
      MAX_UPSTREAM_BODY_BYTES,
    ]) {
      expect(Number.isSafeInteger(limit) && limit > 0, String(limit)).toBe(true);
    }
  });
});
