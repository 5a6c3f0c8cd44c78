/**
 * `ServerErrorAnswers` by `ExecutedVersion`, through the real middy chain with in-memory ports: one
 * metric per answer of 500 or above, in an EMF blob of its own (the version dimension on no other
 * metric), none for a 200. A deploy's `release-5xx-answers` alarm watches exactly this series.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import {
  EXECUTED_VERSION_DIMENSION,
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../../../../../functions/contract/telemetry.ts';
import { createHandler } from '../../../../../functions/core/adapters/app.ts';
import { UNPUBLISHED_VERSION } from '../../../../../functions/core/adapters/telemetry.ts';
import { createCredentialsCache } from '../../../../../functions/core/app/credentials.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import type { AffixClient } from '../../../../../functions/core/domain/schemas.ts';
import { CLIENT_ID, ETAG_KEY, parsedClient, SECRET_A } from '../../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../../../../support/events.ts';
import { createInMemoryWriteLock } from '../../../../support/in-memory-write-lock.ts';

const output = captureOutput();

/** A container whose Affix read answers with `read` (a client, or a problem to throw). */
function container(read: () => Promise<AffixClient>, functionVersion: string | undefined) {
  const handler = createHandler({
    config: { upstreamDeadlineMs: 3_000, deadlineSafetyMarginMs: 100 },
    ports: {
      credentials: createCredentialsCache({
        maxAgeMs: 300_000,
        load: async () => ({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: ETAG_KEY }),
      }),
      writeLock: createInMemoryWriteLock(),
      affix: { getClient: read, replaceClient: () => Promise.reject(new Error('no writes here')) },
    },
    logger: new Logger({ serviceName: SERVICE_NAME }),
    metrics: new Metrics({
      namespace: METRICS_NAMESPACE,
      serviceName: SERVICE_NAME,
      defaultDimensions: { stage: 'test' },
    }),
    functionVersion,
  });
  return async (event: EventOptions = { method: 'GET', path: '/client' }) => {
    const from = output.lines.length;
    const response = await handler(apiEvent(event), lambdaContext());
    const emf = output.json(from).filter((line) => line._aws !== undefined);
    return { status: response.statusCode, emf };
  };
}

type Emf = Record<string, unknown> & {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: unknown[] }> };
};
const serverErrorBlobs = (emf: Record<string, unknown>[]) =>
  emf.filter((line) => line[METRIC.serverErrorAnswers] !== undefined) as Emf[];

const unavailable = () =>
  Promise.reject(new ProblemError('credentials-unavailable', 'SSM did not answer in time'));
const upstreamError = () => Promise.reject(new ProblemError('upstream-error', 'Affix answered 500'));

describe('ServerErrorAnswers', () => {
  it('a 503 answer emits exactly one, with the version that answered, in a blob of its own', async () => {
    const { status, emf } = await container(unavailable, '7')();
    expect(status).toBe(503);
    const blobs = serverErrorBlobs(emf);
    expect(blobs).toHaveLength(1);
    const [blob] = blobs as [Emf];
    expect(blob).toMatchObject({
      [METRIC.serverErrorAnswers]: 1,
      [EXECUTED_VERSION_DIMENSION]: '7',
      service: SERVICE_NAME,
      stage: 'test',
    });
    const sets = blob._aws.CloudWatchMetrics;
    expect(sets).toHaveLength(1);
    expect(sets[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(sets[0]?.Metrics).toEqual([{ Name: METRIC.serverErrorAnswers, Unit: 'Count' }]);
    expect(sets[0]?.Dimensions.map((names) => [...names].sort())).toEqual([
      [EXECUTED_VERSION_DIMENSION, 'service', 'stage'],
    ]);
    // The version dimension multiplies no other metric's series.
    for (const other of emf.filter((line) => line !== blob)) {
      expect(other[EXECUTED_VERSION_DIMENSION], JSON.stringify(other)).toBeUndefined();
    }
    // The request's outcome is still counted, once, without the version.
    expect(emf.filter((line) => line[METRIC.requestOutcome] !== undefined)).toHaveLength(1);
  });

  it('a 502 counts as well', async () => {
    const { status, emf } = await container(upstreamError, '12')();
    expect(status).toBe(502);
    expect(serverErrorBlobs(emf).map((blob) => blob[EXECUTED_VERSION_DIMENSION])).toEqual(['12']);
  });

  it('a 200 emits none', async () => {
    const { status, emf } = await container(async () => parsedClient(), '7')();
    expect(status).toBe(200);
    expect(emf.filter((line) => line[METRIC.requestOutcome] !== undefined)).toHaveLength(1);
    expect(serverErrorBlobs(emf)).toEqual([]);
  });

  it('a 4xx emits none', async () => {
    const { status, emf } = await container(unavailable, '7')({ method: 'GET', path: '/no-such-route' });
    expect(status).toBe(404);
    expect(emf.filter((line) => line[METRIC.requestOutcome] !== undefined)).toHaveLength(1);
    expect(serverErrorBlobs(emf)).toEqual([]);
  });

  it(`reports ${UNPUBLISHED_VERSION} where Lambda's version is not set`, async () => {
    const { emf } = await container(unavailable, undefined)();
    expect(serverErrorBlobs(emf).map((blob) => blob[EXECUTED_VERSION_DIMENSION])).toEqual([
      UNPUBLISHED_VERSION,
    ]);
  });

  it('counts every 5xx answer of a container: one per answer', async () => {
    const invoke = container(unavailable, '3');
    const first = await invoke();
    const second = await invoke();
    expect([...serverErrorBlobs(first.emf), ...serverErrorBlobs(second.emf)]).toHaveLength(2);
  });
});
