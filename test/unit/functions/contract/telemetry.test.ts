/** The telemetry names: one name per metric, each one CloudWatch accepts. */
import { describe, expect, it } from 'vitest';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../../../functions/contract/telemetry.ts';

describe('telemetry names', () => {
  it('gives every metric its own name', () => {
    const names = Object.values(METRIC);
    expect(new Set(names).size).toBe(names.length);
  });

  it('uses names CloudWatch accepts: printable ASCII without spaces, at most 255 characters', () => {
    for (const name of [...Object.values(METRIC), METRICS_NAMESPACE])
      expect(name).toMatch(/^[\x21-\x7e]{1,255}$/);
    // The namespace may not start with the reserved `AWS/`.
    expect(METRICS_NAMESPACE.startsWith('AWS/')).toBe(false);
    expect(SERVICE_NAME).toMatch(/^[a-z][a-z0-9-]*$/);
  });
});
