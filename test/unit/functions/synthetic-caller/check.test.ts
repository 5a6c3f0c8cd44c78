/**
 * The synthetic check's own rules, without the local stack: what it reports for a failure that is
 * not the API's (a bug in the caller itself), and that it measures the call.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import {
  runSyntheticCheck,
  SYNTHETIC_LATENCY_METRIC,
  SYNTHETIC_SUCCESS_METRIC,
} from '../../../../functions/synthetic-caller/check.ts';
import { captureOutput } from '../../../support/capture.ts';

describe('runSyntheticCheck', () => {
  const output = captureOutput();

  it('reports an unexpected error as synthetic-caller-bug, without its message, and measures the call', async () => {
    const metrics = new Metrics({ serviceName: 'affix-webhook-config', namespace: 'CheckTest' });
    let clock = 1_000;
    const result = await runSyntheticCheck({
      client: {
        getClient: async () => {
          clock += 42;
          throw new TypeError('secret-looking detail sk_live_123');
        },
      },
      metrics,
      logger: new Logger({ serviceName: 'test' }),
      now: () => clock,
    });
    metrics.publishStoredMetrics();
    expect(result).toEqual({ ok: false, slug: 'synthetic-caller-bug', status: undefined });
    const blob = output.json().find((line) => SYNTHETIC_SUCCESS_METRIC in line) as Record<string, unknown>;
    expect(blob[SYNTHETIC_SUCCESS_METRIC]).toBe(0);
    expect(blob[SYNTHETIC_LATENCY_METRIC]).toBe(42);
    expect(output.lines.join('\n')).not.toContain('sk_live_123');
  });
});
