/**
 * One rotation run over in-memory ports: Affix keeps one client, SSM keeps a parameter's versions, the
 * write lock is the in-memory mutex, the clock and the generated secrets are injected. Runs are
 * crashed at each step and resumed by the next run. The same job over the local stand-ins is in
 * test/integration/functions/secret-rotation/.
 */
import { describe, expect, it } from 'vitest';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import {
  type AuditEvent,
  type RotationSettings,
  RotationStuckError,
  rotate,
} from '../../../../../functions/core/app/rotate.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import type { SsmSecretState } from '../../../../../functions/core/domain/rotation-state.ts';
import type { AffixClient } from '../../../../../functions/core/domain/schemas.ts';
import type {
  AffixPort,
  CallContext,
  CredentialsProvider,
  RotationPorts,
} from '../../../../../functions/core/ports.ts';
import { CLIENT_ID, ETAG_KEY, parsedClient } from '../../../../support/affix-fixtures.ts';
import { createInMemoryWriteLock } from '../../../../support/in-memory-write-lock.ts';

const DAY_S = 86_400;
const OLD = 'secret-OLD0-aaaa-1111-current';
const T0 = new Date('2026-01-01T00:00:00Z');

/** Affix, SSM and the clock in memory; `crash` makes one named step throw once. */
function world(options: { affixSecrets?: string[] } = {}) {
  const clock = { now: new Date(T0.getTime() + 31 * DAY_S * 1_000) };
  const affix = {
    client: parsedClient({
      client_id: CLIENT_ID,
      client_secret: options.affixSecrets ?? [OLD],
      name: 'App',
      redirect_uris: [],
    }) as AffixClient,
    posts: 0,
  };
  const ssm: { value: string; since: Date }[] = [{ value: OLD, since: T0 }];
  const crash = { at: undefined as 'replace' | 'verify' | 'put' | undefined };
  const crashIf = (step: typeof crash.at) => {
    if (crash.at === step) {
      crash.at = undefined;
      throw new Error(`crashed at ${step}`);
    }
  };
  const refused = new Set<string>();
  let generated = 0;
  const current = () => ssm.at(-1) as { value: string; since: Date };
  const credentials: CredentialsProvider = {
    get: async () => ({ clientId: CLIENT_ID, clientSecret: current().value, etagKey: ETAG_KEY }),
    refresh: async () => ({ clientId: CLIENT_ID, clientSecret: current().value, etagKey: ETAG_KEY }),
  };
  const port: AffixPort = {
    getClient: async () => affix.client,
    replaceClient: async (update) => {
      crashIf('replace');
      affix.posts += 1;
      const { extra, ...fields } = update;
      affix.client = { ...fields, client_id: CLIENT_ID, extra };
      return affix.client;
    },
  };
  const ports: RotationPorts = {
    affix: port,
    credentials,
    writeLock: createInMemoryWriteLock(),
    secretStore: {
      read: async (): Promise<SsmSecretState> => ({
        current: current().value,
        currentSince: current().since,
        version: ssm.length,
        history: ssm.slice(0, -1).map((version) => version.value),
      }),
      put: async (value) => {
        crashIf('put');
        ssm.push({ value, since: clock.now });
      },
    },
    verifySecret: async (secret) => {
      crashIf('verify');
      if (refused.has(secret) || !affix.client.client_secret.includes(secret)) {
        throw new ProblemError('upstream-auth-failed', 'Affix refused the secret');
      }
    },
    generateSecret: () => {
      generated += 1;
      return `secret-NEW${generated}-bbbb-2222-generated`;
    },
    now: () => clock.now,
  };
  const audits: AuditEvent[] = [];
  const run = (settings: Partial<RotationSettings> = {}) =>
    rotate(
      ports,
      { graceSeconds: 0, intervalSeconds: 30 * DAY_S, force: false, ...settings },
      (): CallContext => ({ deadline: createDeadline(10_000, () => 0), purpose: 'write' }),
      (event) => audits.push(event),
    );
  return { affix, ssm, clock, crash, refused, run, audits, generated: () => generated };
}

describe('rotate', () => {
  it('does nothing while the secret is younger than the interval', async () => {
    const w = world();
    w.clock.now = new Date(T0.getTime() + 29 * DAY_S * 1_000);
    expect(await w.run()).toEqual({ outcome: 'steady', steps: ['steady'] });
    expect(w.affix.posts).toBe(0);
    expect(w.ssm).toHaveLength(1);
  });

  it('rotates a due secret in one run with no grace: add, verify and store, retire', async () => {
    const w = world();
    expect(await w.run()).toEqual({
      outcome: 'rotated',
      steps: ['start', 'store-pending', 'retire', 'steady'],
    });
    const added = 'secret-NEW1-bbbb-2222-generated';
    expect(w.affix.client.client_secret).toEqual([added]);
    expect(w.ssm.map((version) => version.value)).toEqual([OLD, added]);
    expect(w.audits.map((event) => event.event)).toEqual([
      'observed',
      'added',
      'observed',
      'verified',
      'stored',
      'observed',
      'retired',
      'observed',
    ]);
  });

  it('never puts a secret in an audit event', async () => {
    const w = world();
    await w.run();
    const text = JSON.stringify(w.audits);
    expect(text).not.toContain(OLD);
    expect(text).not.toContain('NEW1');
  });

  it('keeps the old secret at Affix for the grace period, and retires it in a later run', async () => {
    const w = world();
    expect(await w.run({ graceSeconds: DAY_S })).toEqual({
      outcome: 'waiting-grace',
      steps: ['start', 'store-pending', 'wait-grace'],
    });
    expect(w.affix.client.client_secret).toHaveLength(2);
    w.clock.now = new Date(w.clock.now.getTime() + DAY_S * 1_000 - 1_000);
    expect((await w.run({ graceSeconds: DAY_S })).outcome).toBe('waiting-grace');
    w.clock.now = new Date(w.clock.now.getTime() + 1_000);
    expect(await w.run({ graceSeconds: DAY_S })).toEqual({ outcome: 'rotated', steps: ['retire', 'steady'] });
    expect(w.affix.client.client_secret).toEqual(['secret-NEW1-bbbb-2222-generated']);
  });

  it('starts a forced rotation of a young secret, once per run', async () => {
    const w = world();
    w.clock.now = new Date(T0.getTime() + 1_000);
    expect((await w.run({ force: true })).steps).toEqual(['start', 'store-pending', 'retire', 'steady']);
    expect(w.generated()).toBe(1);
  });

  it.each(['replace', 'verify', 'put'] as const)(
    'after a crash at %s, the next run resumes from what Affix and SSM hold, with one generated secret',
    async (step) => {
      const w = world();
      w.crash.at = step;
      await expect(w.run()).rejects.toThrow(`crashed at ${step}`);
      // Whatever happened, SSM still holds a secret Affix accepts.
      expect(w.affix.client.client_secret).toContain(w.ssm.at(-1)?.value);
      expect((await w.run()).outcome).toBe('rotated');
      expect(w.affix.client.client_secret).toEqual([w.ssm.at(-1)?.value]);
      expect(w.generated()).toBe(step === 'replace' ? 2 : 1);
    },
  );

  it('writes nothing to SSM when Affix does not accept the pending secret', async () => {
    const pending = 'secret-PEND-cccc-3333-pending';
    const w = world({ affixSecrets: [OLD, pending] });
    w.refused.add(pending);
    await expect(w.run()).rejects.toMatchObject({ slug: 'upstream-auth-failed' });
    expect(w.ssm.map((version) => version.value)).toEqual([OLD]);
    expect(w.audits.map((event) => event.event)).toEqual(['observed']);
  });

  it('is stuck when the secret SSM holds is not at Affix: nothing is written', async () => {
    const w = world({ affixSecrets: ['secret-ELSE-dddd-4444-someone'] });
    const error = await w.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotationStuckError);
    expect((error as RotationStuckError).reason).toBe('current-not-at-affix');
    expect(w.affix.posts).toBe(0);
    expect(w.ssm).toHaveLength(1);
  });

  it('is stuck when Affix lists two secrets SSM never held: it does not guess which to store', async () => {
    const w = world({
      affixSecrets: [OLD, 'secret-AAAA-xxxx-0001-unknown', 'secret-BBBB-xxxx-0002-unknown'],
    });
    await expect(w.run()).rejects.toMatchObject({ reason: 'several-pending' });
    expect(w.ssm).toHaveLength(1);
  });
});
