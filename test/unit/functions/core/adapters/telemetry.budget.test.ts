/**
 * The visible rate budget as EMF metrics: one `AffixRequests` per exchange with its method and outcome,
 * `ClientCacheHit` and `RateLimitBackoff` in the request's blob of the default dimensions (which
 * `requestTelemetry` publishes, as the helper below does). Real Powertools Metrics, its output captured.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../../../../functions/contract/telemetry.ts';
import { answeredFrom, createBudgetTelemetry } from '../../../../../functions/core/adapters/telemetry.ts';
import type { UpstreamExchange } from '../../../../../functions/core/ports.ts';
import { captureOutput } from '../../../../support/capture.ts';

const output = captureOutput();

type Blob = Record<string, unknown> & { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } };

function record(state: Parameters<ReturnType<typeof createBudgetTelemetry>['record']>[0]): Blob[] {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const telemetry = createBudgetTelemetry(metrics);
  const from = output.lines.length;
  telemetry.record(state);
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  return output.json(from).filter((line) => line._aws !== undefined) as Blob[];
}

const exchange = (method: 'GET' | 'POST', status: UpstreamExchange['status']): UpstreamExchange => ({
  method,
  status,
  latencyMs: 3,
});

describe('answeredFrom', () => {
  it('is what the cache or the back-off noted, else Affix when an exchange was made, else nothing', () => {
    expect(answeredFrom({ answeredFrom: 'cache' }, [exchange('GET', 200)])).toBe('cache');
    expect(answeredFrom({ answeredFrom: 'backoff' }, [])).toBe('backoff');
    expect(answeredFrom({}, [exchange('GET', 200)])).toBe('affix');
    expect(answeredFrom({}, [])).toBeNull();
  });
});

describe('createBudgetTelemetry', () => {
  it('counts each Affix exchange once, with its method and outcome as the only extra dimensions', () => {
    const blobs = record({
      exchanges: [exchange('GET', 200), exchange('POST', 503), exchange('POST', 'timeout')],
      budget: {},
    });
    const counted = blobs.filter((blob) => blob[METRIC.affixRequests] !== undefined);
    expect(counted.map((blob) => [blob.method, blob.outcome, blob[METRIC.affixRequests]])).toEqual([
      ['GET', '200', 1],
      ['POST', '503', 1],
      ['POST', 'timeout', 1],
    ]);
    for (const blob of counted) {
      expect(blob._aws.CloudWatchMetrics[0]?.Dimensions.map((names) => [...names].sort())).toEqual([
        ['method', 'outcome', 'service'],
      ]);
    }
    expect(blobs.some((blob) => blob[METRIC.clientCacheHit] !== undefined)).toBe(false);
  });

  it('counts a cache hit as 1 and a miss as 0, only when the cache decided', () => {
    const hit = record({ exchanges: [], budget: { cacheHit: true, answeredFrom: 'cache' } });
    expect(hit.map((blob) => blob[METRIC.clientCacheHit])).toEqual([1]);
    const miss = record({ exchanges: [exchange('GET', 200)], budget: { cacheHit: false } });
    expect(miss.flatMap((blob) => blob[METRIC.clientCacheHit] ?? [])).toEqual([0]);
    // The cache-hit blob carries no exchange dimensions: the default ones only.
    const cacheBlob = miss.find((blob) => blob[METRIC.clientCacheHit] !== undefined);
    expect(cacheBlob?.method).toBeUndefined();
    expect(cacheBlob?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
  });

  it('counts an answer of the shared back-off, and nothing for a request that made no exchange', () => {
    const backoff = record({ exchanges: [], budget: { answeredFrom: 'backoff' } });
    expect(backoff.map((blob) => blob[METRIC.rateLimitBackoff])).toEqual([1]);
    expect(record({ exchanges: [], budget: {} })).toEqual([]);
  });
});
