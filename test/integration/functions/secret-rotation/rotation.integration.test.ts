/**
 * The rotation job end to end over the local pool: the real job wiring (SDK clients resolving the
 * local SSM endpoint and dynalite through AWS_ENDPOINT_URL_*), the Affix sandbox, and the proxy in a
 * pool of isolated environments that must all keep answering after the secret changed under them.
 * One stack for every scenario: each one starts where the previous one ended (a steady client).
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_KEY } from '../../../../functions/core/adapters/dynamodb-state.ts';
import {
  type ChangeEntry,
  ChangeEntrySchema,
  JOURNAL_SORT_PREFIX,
  ROTATION_ACTOR,
} from '../../../../functions/core/domain/change-journal.ts';
import { maskSecret } from '../../../../functions/core/domain/client-state.ts';
import type { RotationPorts } from '../../../../functions/core/ports.ts';
import { createRotationJob } from '../../../../functions/secret-rotation/job.ts';
import { SANDBOX_DEFAULTS } from '../../../../local/affix-sandbox.ts';
import { DEFAULT_CLIENT_SECRET_PARAMETER, localHandlerEnv } from '../../../../local/handler-env.ts';
import { LOCAL_IDENTITIES } from '../../../../local/identities.ts';
import { ENVIRONMENT_ID_HEADER } from '../../../../local/lambda-pool.ts';
import { type LocalStack, startLocalStack } from '../../../../local/start.ts';
import { signDelivery } from '../../../../local/webhook-delivery.ts';
import { captureOutput } from '../../../support/capture.ts';
import { findLeaks } from '../../../support/leaks.ts';
import { signedFetch } from '../../../support/signed-fetch.ts';

const CONCURRENCY = 3;
const output = captureOutput();
const answers: string[] = [];
const generated: string[] = [];
let stack: LocalStack;

function sandbox() {
  if (stack.sandbox === undefined) throw new Error('the sandbox should run');
  return stack.sandbox;
}

/** The secret parameter's current value, read from the local store as the proxy reads it. */
async function ssmSecret(): Promise<string> {
  const job = createRotationJob(process.env);
  return (await job.ports.secretStore.read()).current;
}

type PortName = 'affix-add' | 'verify' | 'store' | 'retire';

/** The job with the port of `crash` throwing once, as if the run died before that step. */
function jobCrashingAt(
  graceSeconds: number,
  crash?: PortName,
  beforeVerify: () => void = () => {},
  onGenerate: () => void = () => {},
) {
  let armed = crash !== undefined;
  const fail = (port: PortName) => {
    if (armed && port === crash) {
      armed = false;
      throw new Error(`simulated crash before ${port}`);
    }
  };
  return createRotationJob({ ...process.env, ROTATION_GRACE_SECONDS: String(graceSeconds) }, (ports) => {
    const wrapped: RotationPorts = {
      ...ports,
      generateSecret: () => {
        onGenerate();
        const secret = ports.generateSecret();
        generated.push(secret);
        return secret;
      },
      affix: {
        getClient: (context) => ports.affix.getClient(context),
        replaceClient: (update, context) => {
          fail(update.client_secret.length > 1 ? 'affix-add' : 'retire');
          return ports.affix.replaceClient(update, context);
        },
      },
      verifySecret: (secret, context) => {
        fail('verify');
        beforeVerify();
        return ports.verifySecret(secret, context);
      },
      secretStore: {
        read: () => ports.secretStore.read(),
        put: (value) => {
          fail('store');
          return ports.secretStore.put(value);
        },
      },
    };
    return wrapped;
  });
}

/** Signed GETs until every environment of the pool has answered: all must be 200. */
async function getFromEveryEnvironment(): Promise<void> {
  const pool = stack.pool;
  if (pool === undefined) throw new Error('the pool should run');
  const all = new Set(pool.environments().map((environment) => environment.id));
  expect(all.size).toBe(CONCURRENCY);
  const seen = new Set<string>();
  for (let round = 0; round < 10 && seen.size < all.size; round += 1) {
    const responses = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        // no-cache: a GET the shared read cache answers reads nothing from Affix.
        signedFetch(
          `${stack.apiUrl}/client`,
          { headers: { 'cache-control': 'no-cache' } },
          LOCAL_IDENTITIES.readers,
        ),
      ),
    );
    for (const response of responses) {
      answers.push(await response.text());
      expect(response.status).toBe(200);
      seen.add(response.headers.get(ENVIRONMENT_ID_HEADER) ?? '');
    }
  }
  expect([...seen].sort()).toEqual([...all].sort());
}

async function verifyDelivery(secret: string) {
  const body = JSON.stringify({ event: 'client.updated', at: Date.now() });
  const response = await signedFetch(
    `${stack.apiUrl}/webhooks/verify`,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-affix-api-signature': signDelivery(Buffer.from(body), secret),
      },
      body,
    },
    LOCAL_IDENTITIES.verifiers,
  );
  const text = await response.text();
  answers.push(text);
  return { status: response.status, text };
}

/** The journal's items as the table holds them (raw), oldest first. */
async function rawJournal() {
  const page = await stack.dynamodb.client().send(
    new QueryCommand({
      TableName: stack.dynamodb.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': { S: STATE_KEY.pk }, ':prefix': { S: JOURNAL_SORT_PREFIX } },
      ConsistentRead: true,
    }),
  );
  return page.Items ?? [];
}

/** The journal entries a run left, validated. */
async function entriesOf(runId: string): Promise<ChangeEntry[]> {
  return (await rawJournal())
    .map((item) => v.parse(ChangeEntrySchema, unmarshall(item).entry))
    .filter((entry) => entry.request_id === runId);
}

/** Exactly one new secret at Affix, the same in SSM, and the proxy answering from every environment. */
async function expectRotatedFrom(before: string) {
  const listed = sandbox().client.client_secret;
  expect(listed).toHaveLength(1);
  expect(listed[0]).not.toBe(before);
  expect(listed[0]).toBe(generated.at(-1));
  expect(await ssmSecret()).toBe(listed[0]);
  await getFromEveryEnvironment();
}

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    concurrency: CONCURRENCY,
    warmEnvironments: CONCURRENCY,
    sandboxLatencyMs: 20,
  });
  Object.assign(
    process.env,
    localHandlerEnv({
      affixBaseUrl: stack.affixBaseUrl,
      ssmUrl: stack.ssm.url,
      dynamodbUrl: stack.dynamodb.url,
      stateTableName: stack.dynamodb.tableName,
    }),
  );
  // Every environment holds the initial secret in its cache before the rotation changes it.
  await getFromEveryEnvironment();
});

afterAll(async () => {
  await stack?.close();
});

describe('automatic rotation over the local stack', () => {
  it('grace 0: one run adds, verifies, stores and retires; the proxy keeps working everywhere', async () => {
    const before = await ssmSecret();
    expect(before).toBe(SANDBOX_DEFAULTS.clientSecret[0]);
    const outcome = await jobCrashingAt(0).run({ force: true }, undefined, 'rotation-run-grace-0');
    expect(outcome).toEqual({ outcome: 'rotated', steps: ['start', 'store-pending', 'retire', 'steady'] });
    await expectRotatedFrom(before);
    // One journal entry per step that changed the client (the add and the retire), secrets masked.
    const fresh = generated.at(-1) ?? '';
    const entries = await entriesOf('rotation-run-grace-0');
    expect(entries.map(({ actor, fields }) => ({ actor, fields }))).toEqual([
      {
        actor: ROTATION_ACTOR,
        fields: [
          {
            field: 'client_secret',
            before: [maskSecret(before)],
            after: [maskSecret(before), maskSecret(fresh)],
          },
        ],
      },
      {
        actor: ROTATION_ACTOR,
        fields: [
          {
            field: 'client_secret',
            before: [maskSecret(before), maskSecret(fresh)],
            after: [maskSecret(fresh)],
          },
        ],
      },
    ]);
    expect(entries[0]?.etag_after).toBe(entries[1]?.etag_before);
    // The old value stays in the parameter's history.
    expect((await createRotationJob(process.env).ports.secretStore.read()).history).toContain(before);
  });

  it('a run that is not forced and not due changes nothing', async () => {
    const before = sandbox().client.client_secret;
    const outcome = await jobCrashingAt(0).run({});
    expect(outcome).toEqual({ outcome: 'steady', steps: ['steady'] });
    expect(sandbox().client.client_secret).toEqual(before);
  });

  for (const crash of ['affix-add', 'verify', 'store', 'retire'] as const) {
    it(`a run that dies before "${crash}" is resumed by the next run`, async () => {
      const before = await ssmSecret();
      const generatedBefore = generated.length;
      await expect(jobCrashingAt(0, crash).run({ force: true })).rejects.toThrow(/rotation failed/);
      // The client still has a working secret: SSM's value is listed at Affix.
      expect(sandbox().client.client_secret).toContain(await ssmSecret());
      // Resumed on demand (forced): a forced run finishes a half-done rotation and starts no second one.
      const resumed = await jobCrashingAt(0).run({ force: true });
      expect(resumed.outcome).toBe('rotated');
      await expectRotatedFrom(before);
      // A crash before the add generated a second secret; otherwise the pending one was reused.
      expect(generated.length - generatedBefore).toBe(crash === 'affix-add' ? 2 : 1);
    });
  }

  it('a secret Affix refuses is never written to SSM; the next run verifies it again and goes on', async () => {
    const before = await ssmSecret();
    const generatedBefore = generated.length;
    // Affix answers 401 to the GET made with the new secret (and to its one retry).
    const refuse = () => sandbox().injectFault({ kind: 'status', status: 401 }, { times: 2, method: 'GET' });
    await expect(jobCrashingAt(0, undefined, refuse).run({ force: true })).rejects.toThrow(
      /rotation failed: upstream-auth-failed/,
    );
    expect(await ssmSecret()).toBe(before);
    expect(sandbox().client.client_secret).toEqual([before, generated.at(-1)]);
    sandbox().clearFaults();
    expect((await jobCrashingAt(0).run({ force: true })).steps).toEqual([
      'store-pending',
      'retire',
      'steady',
    ]);
    expect(generated.length - generatedBefore).toBe(1);
    await expectRotatedFrom(before);
  });

  it('a secret list changed by someone else after the run read it is refused, not overwritten', async () => {
    const before = await ssmSecret();
    const manual = 'manual-secret-0123456789abcdef';
    // Between the run's read and its write, a human adds a secret directly at Affix.
    const interfere = () => sandbox().setClient({ ...sandbox().client, client_secret: [before, manual] });
    await expect(jobCrashingAt(0, undefined, undefined, interfere).run({ force: true })).rejects.toThrow(
      /rotation failed: precondition-failed/,
    );
    expect(sandbox().client.client_secret).toEqual([before, manual]);
    expect(await ssmSecret()).toBe(before);
    sandbox().setClient({ ...sandbox().client, client_secret: [before] });
  });

  it('during the grace period deliveries signed with the old and with the new secret both verify', async () => {
    const before = await ssmSecret();
    const outcome = await jobCrashingAt(3_600).run({ force: true });
    expect(outcome.outcome).toBe('waiting-grace');
    const fresh = generated.at(-1) ?? '';
    expect(sandbox().client.client_secret).toEqual([before, fresh]);
    expect(await ssmSecret()).toBe(fresh);
    // Each container's list of secrets lags Affix by at most its refresh interval; a GET refreshes it.
    await getFromEveryEnvironment();
    expect((await verifyDelivery(before)).status).toBe(200);
    expect((await verifyDelivery(fresh)).status).toBe(200);
    expect((await verifyDelivery('not-a-secret-of-this-client')).status).toBe(422);
    // Still in grace: a second run waits.
    expect((await jobCrashingAt(3_600).run({})).outcome).toBe('waiting-grace');
    // Grace over: the old one goes, and its signatures no longer verify.
    expect((await jobCrashingAt(0).run({})).steps).toEqual(['retire', 'steady']);
    await expectRotatedFrom(before);
    expect((await verifyDelivery(before)).status).toBe(422);
  });

  it('says so in its audit line when the secret is still the client id (self-signup)', async () => {
    const clientId = SANDBOX_DEFAULTS.clientId;
    sandbox().setClient({ ...sandbox().client, client_secret: [clientId] });
    stack.ssm.setParameter(DEFAULT_CLIENT_SECRET_PARAMETER, clientId, 'SecureString');
    const from = output.lines.length;
    expect((await jobCrashingAt(0).run({ force: true })).outcome).toBe('rotated');
    const observed = output.lines.slice(from).filter((line) => line.includes('"event":"observed"'));
    expect(observed[0]).toContain('"initialSecretIsClientId":true');
    expect(observed.at(-1)).toContain('"initialSecretIsClientId":false');
    await expectRotatedFrom(clientId);
  });

  it('no secret in any log line, answer or journal item', async () => {
    const secrets = [SANDBOX_DEFAULTS.clientSecret[0], ...generated, 'manual-secret-0123456789abcdef'];
    expect(generated.length).toBeGreaterThanOrEqual(6);
    const journal = (await rawJournal()).map((item) => JSON.stringify(item));
    // Every rotation's add and retire, and the secret list changed at Affix by hand, are journaled.
    expect(journal.length).toBeGreaterThanOrEqual(2 * 6);
    expect(findLeaks([...output.lines, ...answers, ...journal], secrets, SANDBOX_DEFAULTS.clientId)).toEqual(
      [],
    );
    // The audit trail is there, and names steps only.
    expect(output.lines.some((line) => line.includes('rotation audit'))).toBe(true);
  });
});
