/**
 * The synthetic caller's handler against the local stack: the real client-config handler behind the
 * local API Gateway stand-in, which checks the SigV4 signature and grants per caller group as the
 * deployed API does. The synthetic caller signs as the local reader (its deployed role is in
 * `readers`), through the default credential chain as in Lambda, and its EMF metric is read from
 * stdout.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientConfigClient } from '../../../../clients/index.ts';
import {
  runSyntheticCheck,
  SYNTHETIC_LATENCY_METRIC,
  SYNTHETIC_SUCCESS_METRIC,
} from '../../../../functions/synthetic-caller/check.ts';
import { LOCAL_IDENTITIES, LOCAL_SIGNING_REGION } from '../../../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../../../local/start.ts';
import { captureOutput } from '../../../support/capture.ts';

const NAMESPACE = 'SyntheticTest';
const saved = { ...process.env };
let stack: LocalStack;

beforeAll(async () => {
  // A pool of one environment: the proxy's handler keeps its own env, this process's is ours.
  stack = await startLocalStack({ port: 0, concurrency: 1 });
  const reader = LOCAL_IDENTITIES.readers;
  Object.assign(process.env, {
    CLIENT_CONFIG_URL: stack.apiUrl,
    CLIENT_CONFIG_REGION: LOCAL_SIGNING_REGION,
    AWS_ACCESS_KEY_ID: reader.accessKeyId,
    AWS_SECRET_ACCESS_KEY: reader.secretAccessKey,
    STAGE: 'local',
    POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}, 60_000);

afterAll(async () => {
  process.env = saved;
  await stack?.close();
});

/** The EMF blobs of stdout that carry `metric`. */
function emf(output: ReturnType<typeof captureOutput>, metric: string) {
  return output.json().filter((line) => {
    const aws = line._aws as { CloudWatchMetrics?: Array<{ Metrics: Array<{ Name: string }> }> } | undefined;
    return aws?.CloudWatchMetrics?.some((set) => set.Metrics.some((m) => m.Name === metric)) ?? false;
  });
}

describe('the synthetic caller handler, against the local stack', () => {
  const output = captureOutput();

  it('signs GET /client as a reader, succeeds, and emits SyntheticCheckSuccess = 1 with its stage', async () => {
    const { handler } = await import('../../../../functions/synthetic-caller/handler.ts');
    expect(await handler()).toEqual({ ok: true });
    const blobs = emf(output, SYNTHETIC_SUCCESS_METRIC);
    expect(blobs).toHaveLength(1);
    const blob = blobs[0] as Record<string, unknown>;
    expect(blob[SYNTHETIC_SUCCESS_METRIC]).toBe(1);
    expect(typeof blob[SYNTHETIC_LATENCY_METRIC]).toBe('number');
    expect(blob.stage).toBe('local');
    const aws = blob._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> };
    expect(aws.CloudWatchMetrics[0]?.Namespace).toBe(NAMESPACE);
    expect(aws.CloudWatchMetrics[0]?.Dimensions[0]?.sort()).toEqual(['service', 'stage']);
    // Nothing of the reader's secret in any line.
    expect(output.lines.join('\n')).not.toContain(LOCAL_IDENTITIES.readers.secretAccessKey);
  });

  it('emits SyntheticCheckSuccess = 0 and the slug when the API refuses the caller', async () => {
    output.clear();
    const metrics = new Metrics({ serviceName: 'affix-webhook-config', namespace: NAMESPACE });
    const client = createClientConfigClient({
      baseUrl: stack.apiUrl,
      region: LOCAL_SIGNING_REGION,
      credentials: { accessKeyId: 'unknown-key', secretAccessKey: 'wrong-secret' },
    });
    const result = await runSyntheticCheck({ client, metrics, logger: new Logger({ serviceName: 'test' }) });
    metrics.publishStoredMetrics();
    expect(result).toEqual({ ok: false, slug: expect.any(String), status: 403 });
    const blob = emf(output, SYNTHETIC_SUCCESS_METRIC)[0] as Record<string, unknown>;
    expect(blob[SYNTHETIC_SUCCESS_METRIC]).toBe(0);
    const failure = output.json().find((line) => line.message === 'synthetic GET /client failed');
    expect(failure).toMatchObject({ slug: (result as { slug: string }).slug, status: 403 });
  });
});
