/**
 * `DestinationChange` from the production entry (`handler.ts` and `wiring.ts`, built from its
 * environment at cold start) over the local stand-ins: the Affix sandbox, the SSM endpoint and
 * dynalite. A write through the proxy counts the destination it changed; a change made at Affix
 * itself counts once, through the outside-change watch's report, by field.
 */
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DESTINATION_FIELD_DIMENSION, METRIC } from '../../../../functions/contract/telemetry.ts';
import { type AffixSandbox, SANDBOX_DEFAULTS, startAffixSandbox } from '../../../../local/affix-sandbox.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../../../local/dynamodb.ts';
import { localHandlerEnv } from '../../../../local/handler-env.ts';
import type { SsmEndpoint } from '../../../../local/ssm-endpoint.ts';
import { ETAG_KEY_BASE64 } from '../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../support/capture.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../../../support/events.ts';
import { startProxySsm } from '../../../support/proxy-container.ts';

const output = captureOutput();
let sandbox: AffixSandbox;
let ssm: SsmEndpoint;
let dynamodb: LocalDynamoDb;
let handler: (event: unknown, context: Context) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  sandbox = await startAffixSandbox({ port: 0 });
  ssm = await startProxySsm({
    clientId: SANDBOX_DEFAULTS.clientId,
    clientSecret: SANDBOX_DEFAULTS.clientSecret[0],
    etagKey: ETAG_KEY_BASE64,
  });
  dynamodb = await startLocalDynamoDb({ port: 0 });
  const env = localHandlerEnv({
    affixBaseUrl: sandbox.url,
    ssmUrl: ssm.url,
    dynamodbUrl: dynamodb.url,
    stateTableName: dynamodb.tableName,
  });
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  // A cold start: the entry reads its configuration and builds its ports from the environment above.
  // Its own instance (its own URL): a file before this one in the worker may have loaded the entry.
  const entry = new URL(
    '../../../../functions/client-config/handler.ts?instance=destination-change',
    import.meta.url,
  );
  ({ handler } = (await import(entry.href)) as { handler: typeof handler });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await sandbox?.close();
  await ssm?.close();
  await dynamodb?.close();
});

/** Invokes the handler; the `DestinationChange` fields it emitted, in order. */
async function invoke(event: EventOptions) {
  const from = output.lines.length;
  const response = await handler(apiEvent(event), lambdaContext());
  const lines = output.json(from);
  return {
    status: response.statusCode,
    destinationFields: lines
      .filter((line) => line[METRIC.destinationChange] === 1)
      .map((line) => line[DESTINATION_FIELD_DIMENSION]),
    outsideChanges: lines.filter((line) => line[METRIC.outsideChange] === 1).length,
    text: output.lines.slice(from).join('\n'),
  };
}

const NO_CACHE = { 'cache-control': 'no-cache' };

describe('DestinationChange from the production wiring', () => {
  it('a read records the state; a PATCH of webhook_uri counts it once and is no outside change', async () => {
    expect((await invoke({ method: 'GET', path: '/client', headers: NO_CACHE })).status).toBe(200);
    const written = await invoke({
      method: 'PATCH',
      path: '/client',
      body: { webhook_uri: 'https://hooks.example.com/through-the-proxy' },
    });
    expect(written.status).toBe(200);
    expect(written.destinationFields).toEqual(['webhook_uri']);
    expect(written.outsideChanges).toBe(0);
    const reread = await invoke({ method: 'GET', path: '/client', headers: NO_CACHE });
    expect(reread.status).toBe(200);
    expect(reread.destinationFields).toEqual([]);
  });

  it('a change of redirect_uris made at Affix counts once, field=redirect_uris, on the next read', async () => {
    sandbox.setClient({ ...sandbox.client, redirect_uris: ['https://intruder.example.com/callback'] });
    const seen = await invoke({ method: 'GET', path: '/client', headers: NO_CACHE });
    expect(seen.status).toBe(200);
    expect(seen.outsideChanges).toBe(1);
    expect(seen.destinationFields).toEqual(['redirect_uris']);
    // Names only: the new value reaches no log line and no metric.
    expect(seen.text).not.toContain('intruder.example.com');
    // Reported once: the next read finds what the watch recorded.
    const again = await invoke({ method: 'GET', path: '/client', headers: NO_CACHE });
    expect(again.destinationFields).toEqual([]);
    expect(again.outsideChanges).toBe(0);
  });

  it('a change of the name alone made at Affix is an outside change but no destination change', async () => {
    sandbox.setClient({ ...sandbox.client, name: 'Renamed at Affix' });
    const seen = await invoke({ method: 'GET', path: '/client', headers: NO_CACHE });
    expect(seen.outsideChanges).toBe(1);
    expect(seen.destinationFields).toEqual([]);
  });
});
