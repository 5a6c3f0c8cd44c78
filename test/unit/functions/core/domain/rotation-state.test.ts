import { describe, expect, it } from 'vitest';
import {
  generateSecret,
  nextStep,
  type Observation,
} from '../../../../../functions/core/domain/rotation-state.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1_000);

function observe(overrides: Partial<Observation> & { affixSecrets: string[] }): Observation {
  return {
    ssm: { current: 'current', currentSince: T0, version: 2, history: ['older'] },
    now: at(10),
    graceSeconds: 100,
    intervalSeconds: 1_000,
    force: false,
    ...overrides,
  };
}

describe('generateSecret', () => {
  it('makes 43 base64url characters from 32 random bytes, different each time', () => {
    const a = generateSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateSecret()).not.toBe(a);
  });
});

describe('nextStep', () => {
  it('is steady with only the current secret and no rotation due', () => {
    expect(nextStep(observe({ affixSecrets: ['current'] }))).toEqual({ kind: 'steady' });
  });

  it('starts when forced or when the current secret is older than the interval', () => {
    expect(nextStep(observe({ affixSecrets: ['current'], force: true }))).toEqual({ kind: 'start' });
    expect(nextStep(observe({ affixSecrets: ['current'], now: at(1_000) }))).toEqual({ kind: 'start' });
  });

  it('treats a secret at Affix that SSM never held as the pending one', () => {
    expect(nextStep(observe({ affixSecrets: ['current', 'new'] }))).toEqual({
      kind: 'store-pending',
      pending: 'new',
    });
  });

  it('stores the pending one before retiring older ones', () => {
    expect(nextStep(observe({ affixSecrets: ['older', 'current', 'new'] }))).toEqual({
      kind: 'store-pending',
      pending: 'new',
    });
  });

  it('waits out the grace period, then retires the secrets SSM held before', () => {
    expect(nextStep(observe({ affixSecrets: ['older', 'current'], now: at(40) }))).toEqual({
      kind: 'wait-grace',
      retiring: 1,
      remainingSeconds: 60,
    });
    expect(nextStep(observe({ affixSecrets: ['older', 'current'], now: at(100) }))).toEqual({
      kind: 'retire',
      keep: 'current',
      retiring: 1,
    });
    expect(nextStep(observe({ affixSecrets: ['older', 'current'], now: T0, graceSeconds: 0 }))).toEqual({
      kind: 'retire',
      keep: 'current',
      retiring: 1,
    });
  });

  it('is stuck when Affix does not list the current secret, or lists two unknown ones', () => {
    expect(nextStep(observe({ affixSecrets: ['older'] }))).toEqual({
      kind: 'stuck',
      reason: 'current-not-at-affix',
    });
    expect(nextStep(observe({ affixSecrets: ['current', 'x', 'y'] }))).toEqual({
      kind: 'stuck',
      reason: 'several-pending',
    });
  });
});
