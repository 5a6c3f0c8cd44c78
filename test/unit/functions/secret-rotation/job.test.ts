/**
 * The rotation job as the Lambda and `npm run rotate` run it: its configuration from the environment,
 * the production ports replaced through the job's own `wrap` hook by in-memory ones (nothing is sent
 * anywhere), its outcome, its failure message, its log lines and its metrics.
 */
import { describe, expect, it } from 'vitest';
import { METRIC } from '../../../../functions/contract/telemetry.ts';
import { ConfigError } from '../../../../functions/core/adapters/config.ts';
import type { AffixClient } from '../../../../functions/core/domain/schemas.ts';
import type { CallContext, RotationPorts } from '../../../../functions/core/ports.ts';
import { DEFAULT_GRACE_SECONDS } from '../../../../functions/secret-rotation/config.ts';
import { createRotationJob } from '../../../../functions/secret-rotation/job.ts';
import { CLIENT_ID, ETAG_KEY, parsedClient } from '../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../support/capture.ts';
import { createInMemoryWriteLock } from '../../../support/in-memory-write-lock.ts';

const output = captureOutput();

const ENV = {
  AFFIX_BASE_URL: 'https://affix.invalid',
  AFFIX_CLIENT_ID_PARAMETER: '/affix/test/client-id',
  AFFIX_CLIENT_SECRET_PARAMETER: '/affix/test/client-secret',
  ETAG_KEY_PARAMETER: '/affix/test/etag-key',
  STATE_TABLE_NAME: 'affix-test-state',
};
const OLD = 'secret-OLD0-aaaa-1111-current';
const NEW = 'secret-NEW0-bbbb-2222-generated';
const DAY_MS = 86_400_000;
const NOW = new Date('2026-03-01T00:00:00Z');

/** In-memory ports in place of the production ones; the job's own are kept for inspection. */
function inMemory(options: { currentAgeDays: number; affixSecrets?: string[] }) {
  const seen: { production?: RotationPorts; calls: CallContext[] } = { calls: [] };
  let client: AffixClient = parsedClient({
    client_id: CLIENT_ID,
    client_secret: options.affixSecrets ?? [OLD],
    name: 'App',
    redirect_uris: [],
  });
  const ssm = [{ value: OLD, since: new Date(NOW.getTime() - options.currentAgeDays * DAY_MS) }];
  const current = () => ssm.at(-1) as { value: string; since: Date };
  const wrap = (production: RotationPorts): RotationPorts => {
    seen.production = production;
    return {
      affix: {
        getClient: async (call) => {
          seen.calls.push(call);
          return client;
        },
        replaceClient: async (update) => {
          const { extra, ...fields } = update;
          client = { ...fields, client_id: CLIENT_ID, extra };
          return client;
        },
      },
      credentials: {
        get: async () => ({ clientId: CLIENT_ID, clientSecret: current().value, etagKey: ETAG_KEY }),
        refresh: async () => ({ clientId: CLIENT_ID, clientSecret: current().value, etagKey: ETAG_KEY }),
      },
      writeLock: createInMemoryWriteLock(),
      secretStore: {
        read: async () => ({
          current: current().value,
          currentSince: current().since,
          version: ssm.length,
          history: ssm.slice(0, -1).map((version) => version.value),
        }),
        put: async (value) => void ssm.push({ value, since: NOW }),
      },
      verifySecret: async () => undefined,
      generateSecret: () => NEW,
      now: () => NOW,
    };
  };
  return { wrap, seen, ssm, client: () => client };
}

const metricValues = (from: number, name: string) =>
  output.json(from).flatMap((line) => (line[name] === undefined ? [] : [line[name]]));
const logLines = (from: number, message: string) =>
  output.json(from).filter((line) => line.message === message);

describe('createRotationJob', () => {
  it('reads its configuration from the environment, defaults included', () => {
    const { wrap } = inMemory({ currentAgeDays: 0 });
    const job = createRotationJob({ ...ENV, ROTATION_INTERVAL_DAYS: '7' }, wrap);
    expect(job.config).toMatchObject({
      graceSeconds: DEFAULT_GRACE_SECONDS,
      intervalSeconds: 7 * 86_400,
      kmsKeyId: undefined,
      clientSecretParameter: ENV.AFFIX_CLIENT_SECRET_PARAMETER,
    });
  });

  it('refuses a bad environment at creation, naming the variable', () => {
    expect(() => createRotationJob({ ...ENV, ROTATION_GRACE_SECONDS: 'soon' })).toThrow(ConfigError);
    expect(() => createRotationJob({ ...ENV, STATE_TABLE_NAME: undefined })).toThrow(
      'STATE_TABLE_NAME is required',
    );
  });

  it('hands the hook the production ports: the SSM secret store and the secret verifier among them', () => {
    const { wrap, seen } = inMemory({ currentAgeDays: 0 });
    createRotationJob(ENV, wrap);
    expect(typeof seen.production?.secretStore.read).toBe('function');
    expect(typeof seen.production?.verifySecret).toBe('function');
    expect(seen.production?.now()).toBeInstanceOf(Date);
    expect(seen.production?.generateSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('run', () => {
  it('rotates a due secret, logs the outcome and counts a success', async () => {
    const world = inMemory({ currentAgeDays: 31 });
    const job = createRotationJob({ ...ENV, ROTATION_GRACE_SECONDS: '0' }, world.wrap);
    const from = output.lines.length;
    expect(await job.run()).toEqual({
      outcome: 'rotated',
      steps: ['start', 'store-pending', 'retire', 'steady'],
    });
    expect(world.client().client_secret).toEqual([NEW]);
    expect(logLines(from, 'rotation finished')).toHaveLength(1);
    expect(logLines(from, 'rotation audit').length).toBeGreaterThan(0);
    expect(metricValues(from, METRIC.rotationFailure)).toEqual([0]);
    expect(metricValues(from, METRIC.rotationOutcome)).toEqual([1]);
    expect(output.lines.slice(from).join('\n')).not.toContain(NEW);
  });

  it('runs steady when nothing is due, and starts one when forced', async () => {
    const steady = inMemory({ currentAgeDays: 1 });
    const from = output.lines.length;
    expect((await createRotationJob(ENV, steady.wrap).run()).outcome).toBe('steady');
    expect(metricValues(from, METRIC.rotationOutcome)).toEqual([0]);
    const forced = inMemory({ currentAgeDays: 1 });
    expect((await createRotationJob(ENV, forced.wrap).run({ force: true })).steps[0]).toBe('start');
  });

  it('spends the writers’ share and passes the invocation’s remaining time to every call', async () => {
    const world = inMemory({ currentAgeDays: 1 });
    await createRotationJob({ ...ENV, UPSTREAM_DEADLINE_MS: '6000' }, world.wrap).run({}, () => 12_345);
    const [call] = world.seen.calls;
    expect(call?.purpose).toBe('write');
    expect(call?.invocationRemainingMs?.()).toBe(12_345);
    expect(call?.deadline.budgetMs).toBe(6_000);
  });

  it('fails with the reason only (a stuck state, a problem slug), logs it and counts a failure', async () => {
    const world = inMemory({ currentAgeDays: 31, affixSecrets: ['secret-ELSE-dddd-4444-someone'] });
    const from = output.lines.length;
    await expect(createRotationJob(ENV, world.wrap).run()).rejects.toThrow(
      /^rotation failed: current-not-at-affix$/,
    );
    expect(logLines(from, 'rotation failed')).toMatchObject([
      { rotation: { reason: 'current-not-at-affix' } },
    ]);
    expect(metricValues(from, METRIC.rotationFailure)).toEqual([1]);
    expect(output.lines.slice(from).join('\n')).not.toContain('secret-ELSE');
  });

  it('names an unexpected error by its name, never its message', async () => {
    const world = inMemory({ currentAgeDays: 31 });
    const job = createRotationJob(ENV, (production) => {
      const ports = world.wrap(production);
      return {
        ...ports,
        secretStore: { ...ports.secretStore, read: () => Promise.reject(new RangeError(`oops ${OLD}`)) },
      };
    });
    await expect(job.run()).rejects.toThrow(/^rotation failed: RangeError$/);
  });
});
