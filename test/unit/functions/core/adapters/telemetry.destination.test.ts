/**
 * `DestinationChange` by `field`, through the real middy chain with in-memory ports: one count per
 * destination field a write changed (`webhook_uri`, `redirect_uris`), each in an EMF blob of its own
 * (the `field` dimension on no other metric), none for a write of other fields or one that changed
 * nothing. The stack's `destination-change-*` alarms watch exactly these series.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import {
  DESTINATION_FIELD_DIMENSION,
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../../../../../functions/contract/telemetry.ts';
import { createHandler } from '../../../../../functions/core/adapters/app.ts';
import { createDestinationTelemetry } from '../../../../../functions/core/adapters/telemetry.ts';
import { createCredentialsCache } from '../../../../../functions/core/app/credentials.ts';
import type { AffixClient } from '../../../../../functions/core/domain/schemas.ts';
import { CLIENT_ID, ETAG_KEY, parsedClient, SECRET_A } from '../../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../../../../support/events.ts';
import { createInMemoryWriteLock } from '../../../../support/in-memory-write-lock.ts';

const output = captureOutput();

const testMetrics = () =>
  new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: SERVICE_NAME,
    defaultDimensions: { stage: 'test' },
  });

type Emf = Record<string, unknown> & {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: unknown[] }> };
};
const emfFrom = (from: number) => output.json(from).filter((line) => line._aws !== undefined) as Emf[];
const destinationBlobs = (emf: Emf[]) => emf.filter((line) => line[METRIC.destinationChange] !== undefined);

/** A container over an in-memory Affix client that keeps what a write sends. */
function container() {
  let current: AffixClient = parsedClient();
  const handler = createHandler({
    config: { upstreamDeadlineMs: 3_000, deadlineSafetyMarginMs: 100 },
    ports: {
      credentials: createCredentialsCache({
        maxAgeMs: 300_000,
        load: async () => ({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: ETAG_KEY }),
      }),
      writeLock: createInMemoryWriteLock(),
      affix: {
        getClient: async () => current,
        replaceClient: async (update) => {
          current = { ...update, client_id: CLIENT_ID };
          return current;
        },
      },
    },
    logger: new Logger({ serviceName: SERVICE_NAME }),
    metrics: testMetrics(),
  });
  return async (event: EventOptions) => {
    const from = output.lines.length;
    const response = await handler(apiEvent(event), lambdaContext());
    return { status: response.statusCode, emf: emfFrom(from) };
  };
}

const patch = (body: Record<string, unknown>): EventOptions => ({ method: 'PATCH', path: '/client', body });

describe('DestinationChange on a write through the proxy', () => {
  it('a PATCH changing webhook_uri emits exactly one, field=webhook_uri, in a blob of its own', async () => {
    const { status, emf } = await container()(patch({ webhook_uri: 'https://hooks.example.com/moved' }));
    expect(status).toBe(200);
    const blobs = destinationBlobs(emf);
    expect(blobs).toHaveLength(1);
    const [blob] = blobs as [Emf];
    expect(blob).toMatchObject({
      [METRIC.destinationChange]: 1,
      [DESTINATION_FIELD_DIMENSION]: 'webhook_uri',
      service: SERVICE_NAME,
      stage: 'test',
    });
    const sets = blob._aws.CloudWatchMetrics;
    expect(sets).toHaveLength(1);
    expect(sets[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(sets[0]?.Metrics).toEqual([{ Name: METRIC.destinationChange, Unit: 'Count' }]);
    expect(sets[0]?.Dimensions.map((names) => [...names].sort())).toEqual([
      [DESTINATION_FIELD_DIMENSION, 'service', 'stage'],
    ]);
    // The field dimension multiplies no other metric's series, and no value reaches the metrics.
    for (const other of emf.filter((line) => line !== blob)) {
      expect(other[DESTINATION_FIELD_DIMENSION], JSON.stringify(other)).toBeUndefined();
    }
    expect(JSON.stringify(emf)).not.toContain('hooks.example.com');
  });

  it('a PATCH changing both destinations and the name emits one per destination field', async () => {
    const { status, emf } = await container()(
      patch({
        name: 'Renamed',
        webhook_uri: 'https://hooks.example.com/moved',
        redirect_uris: ['https://app.example.com/other'],
      }),
    );
    expect(status).toBe(200);
    expect(destinationBlobs(emf).map((blob) => blob[DESTINATION_FIELD_DIMENSION])).toEqual([
      'webhook_uri',
      'redirect_uris',
    ]);
  });

  it('a PATCH changing the name only emits none', async () => {
    const { status, emf } = await container()(patch({ name: 'Renamed' }));
    expect(status).toBe(200);
    expect(emf.filter((line) => line[METRIC.requestOutcome] !== undefined)).toHaveLength(1);
    expect(destinationBlobs(emf)).toEqual([]);
  });

  it('a PATCH that sends the destinations they already have changes nothing and emits none', async () => {
    const same = parsedClient();
    const { status, emf } = await container()(
      patch({ webhook_uri: same.webhook_uri, redirect_uris: same.redirect_uris }),
    );
    expect(status).toBe(200);
    expect(destinationBlobs(emf)).toEqual([]);
  });

  it('a refused PATCH (412, the client changed) emits none', async () => {
    const { status, emf } = await container()({
      ...patch({ webhook_uri: 'https://hooks.example.com/moved' }),
      headers: { 'If-Match': '"not-the-current-etag"' },
    });
    expect(status).toBe(412);
    expect(destinationBlobs(emf)).toEqual([]);
  });

  it('counts every change of a container: one per write', async () => {
    const invoke = container();
    const first = await invoke(patch({ webhook_uri: 'https://hooks.example.com/one' }));
    const second = await invoke(patch({ webhook_uri: 'https://hooks.example.com/two' }));
    expect([...destinationBlobs(first.emf), ...destinationBlobs(second.emf)]).toHaveLength(2);
  });
});

describe('createDestinationTelemetry (what the outside-change report calls)', () => {
  it('an outside change of redirect_uris (with other fields) emits one, field=redirect_uris', () => {
    const from = output.lines.length;
    createDestinationTelemetry(testMetrics()).record(['name', 'redirect_uris', 'unmodelled']);
    const blobs = destinationBlobs(emfFrom(from));
    expect(blobs).toHaveLength(1);
    expect(blobs[0]).toMatchObject({
      [METRIC.destinationChange]: 1,
      [DESTINATION_FIELD_DIMENSION]: 'redirect_uris',
      service: SERVICE_NAME,
      stage: 'test',
    });
  });

  it('a change of neither destination emits nothing', () => {
    const from = output.lines.length;
    createDestinationTelemetry(testMetrics()).record(['name', 'client_secret', 'unmodelled']);
    expect(emfFrom(from)).toEqual([]);
  });
});
