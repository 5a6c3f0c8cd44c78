/**
 * One rotation run: observe, take the next step, observe again, until the rotation is complete, waits
 * for its grace period, or is stuck. Every step goes through a port, so tests can crash any of them;
 * Affix writes go through the client-config function's `replaceSecrets` (write lock, If-Match, the
 * lock-out guard). Audit events name steps, counts and SSM versions, never a secret.
 */

import { nextStep, type Step } from '../domain/rotation-state.ts';
import type { CallContext, RotationPorts } from '../ports.ts';
import { createUseCases } from './use-cases.ts';

export interface RotationSettings {
  graceSeconds: number;
  intervalSeconds: number;
  force: boolean;
}

/** An audit event: what happened, with counts and versions only. */
export type AuditEvent =
  | {
      event: 'observed';
      step: Step['kind'];
      affixSecrets: number;
      ssmVersion: number;
      initialSecretIsClientId: boolean;
    }
  | { event: 'added'; affixSecrets: number }
  | { event: 'verified' }
  | { event: 'stored'; ssmVersion: number }
  | { event: 'retired'; removed: number };

export interface RotationOutcome {
  outcome: 'rotated' | 'waiting-grace' | 'steady';
  steps: Step['kind'][];
}

export class RotationStuckError extends Error {
  override readonly name = 'RotationStuckError';
  constructor(readonly reason: string) {
    super(`rotation cannot continue: ${reason}`);
  }
}

/** More than a whole rotation needs (start, store, retire, steady): a loop guard, not a limit. */
const MAX_STEPS = 6;

export async function rotate(
  ports: RotationPorts,
  settings: RotationSettings,
  context: () => CallContext,
  audit: (event: AuditEvent) => void,
): Promise<RotationOutcome> {
  const { getClient, replaceSecrets } = createUseCases(ports);
  const steps: Step['kind'][] = [];
  let started = false;
  let changed = false;
  for (let i = 0; i < MAX_STEPS; i += 1) {
    const call = context();
    const { client, etag } = await getClient(call);
    const ssm = await ports.secretStore.read();
    // One rotation per run: `force` starts one only if this run has not already moved one along.
    const step = nextStep({
      affixSecrets: client.client_secret,
      ssm,
      now: ports.now(),
      graceSeconds: settings.graceSeconds,
      intervalSeconds: settings.intervalSeconds,
      force: settings.force && !changed,
    });
    steps.push(step.kind);
    audit({
      event: 'observed',
      step: step.kind,
      affixSecrets: client.client_secret.length,
      ssmVersion: ssm.version,
      // Affix self-signup's first secret equals the client id: known to anyone who sees the id.
      initialSecretIsClientId: ssm.current === client.client_id,
    });
    switch (step.kind) {
      case 'start': {
        if (started) return { outcome: changed ? 'rotated' : 'steady', steps };
        started = true;
        changed = true;
        const secret = ports.generateSecret();
        // If-Match: a secret list changed by someone else since our read is refused, not overwritten.
        const result = await replaceSecrets([...client.client_secret, secret], call, {
          ifMatch: etag,
        });
        audit({ event: 'added', affixSecrets: result.client.client_secret.length });
        break;
      }
      case 'store-pending': {
        changed = true;
        // Before anything relies on it: SSM is what every container authenticates with.
        await ports.verifySecret(step.pending, call);
        audit({ event: 'verified' });
        await ports.secretStore.put(step.pending);
        const after = await ports.secretStore.read();
        audit({ event: 'stored', ssmVersion: after.version });
        break;
      }
      case 'retire': {
        changed = true;
        // The lock-out guard inside replaceSecrets reads SSM afresh: `keep` must be what it serves.
        await replaceSecrets([step.keep], call, { ifMatch: etag });
        audit({ event: 'retired', removed: step.retiring });
        break;
      }
      case 'wait-grace':
        return { outcome: 'waiting-grace', steps };
      case 'steady':
        return { outcome: changed ? 'rotated' : 'steady', steps };
      case 'stuck':
        throw new RotationStuckError(step.reason);
    }
  }
  throw new RotationStuckError('too-many-steps');
}
