/**
 * The rotation's state machine, pure: which step comes next is derived from what Affix lists and
 * what SSM holds (current value, its date, and the values of earlier versions). Nothing else is
 * stored, so a run that crashed between any two steps is resumed by the next run from the same facts.
 *
 * Where the pending secret lives between "added at Affix" and "written to SSM": at Affix itself. A
 * secret Affix lists that SSM never held (neither now nor in its history) is the pending one; the job
 * reads it back over an authenticated GET, so no second copy is kept anywhere (no state table item,
 * no label, no log line).
 *
 * @example
 * const next = nextStep({ affixSecrets, ssm, now, graceSeconds: 86_400, intervalSeconds, force });
 */
import { randomBytes } from 'node:crypto';

/** 32 random bytes: 43 base64url characters, inside Affix's 16-256 visible-ASCII rule. */
export const SECRET_BYTES = 32;

export function generateSecret(random: (size: number) => Buffer = randomBytes): string {
  return random(SECRET_BYTES).toString('base64url');
}

export interface SsmSecretState {
  /** The value the proxy authenticates with now. */
  current: string;
  /** When that version was written: the grace period counts from here. */
  currentSince: Date;
  version: number;
  /** Values of every earlier version (the rotated-out secrets). */
  history: readonly string[];
}

export interface Observation {
  affixSecrets: readonly string[];
  ssm: SsmSecretState;
  now: Date;
  /** Old secrets stay at Affix this long after the new one reached SSM (0 allowed). */
  graceSeconds: number;
  /** A new rotation starts when the current secret is at least this old (or `force`). */
  intervalSeconds: number;
  force: boolean;
}

export type Step =
  /** Steady and due: generate a secret and add it at Affix beside the current one. */
  | { kind: 'start' }
  /** A secret at Affix that SSM never held: verify it with Affix, then write it to SSM. */
  | { kind: 'store-pending'; pending: string }
  /** The new secret is in SSM; old ones remain at Affix and the grace period is over: remove them. */
  | { kind: 'retire'; keep: string; retiring: number }
  /** The old ones remain, but receivers and containers still have time to pick up the new one. */
  | { kind: 'wait-grace'; retiring: number; remainingSeconds: number }
  /** Only the current secret, and no rotation due. */
  | { kind: 'steady' }
  /** Nothing safe to do without a human: the run fails and alarms. */
  | { kind: 'stuck'; reason: 'current-not-at-affix' | 'several-pending' };

export function nextStep(observation: Observation): Step {
  const { affixSecrets, ssm } = observation;
  if (!affixSecrets.includes(ssm.current)) return { kind: 'stuck', reason: 'current-not-at-affix' };
  const known = new Set([ssm.current, ...ssm.history]);
  const pending = [...new Set(affixSecrets.filter((secret) => !known.has(secret)))];
  // Two unknown secrets: one was added by someone else; guessing could store the wrong one.
  if (pending.length > 1) return { kind: 'stuck', reason: 'several-pending' };
  const [onlyPending] = pending;
  if (onlyPending !== undefined) return { kind: 'store-pending', pending: onlyPending };
  const retiring = affixSecrets.filter((secret) => secret !== ssm.current).length;
  const ageSeconds = (observation.now.getTime() - ssm.currentSince.getTime()) / 1_000;
  if (retiring > 0) {
    if (ageSeconds >= observation.graceSeconds) return { kind: 'retire', keep: ssm.current, retiring };
    return {
      kind: 'wait-grace',
      retiring,
      remainingSeconds: Math.ceil(observation.graceSeconds - ageSeconds),
    };
  }
  if (observation.force || ageSeconds >= observation.intervalSeconds) return { kind: 'start' };
  return { kind: 'steady' };
}
