/**
 * Which journal entries the shared state asks the store to write: the use cases and the real lease
 * lock over an in-memory state store that records every change it is given, and an in-memory Affix.
 * (The DynamoDB requests those changes become are `dynamodb-state.journal.test.ts`'s.)
 */
import { describe, expect, it } from 'vitest';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import { createLeaseWriteLock, createSharedState } from '../../../../../functions/core/app/shared-state.ts';
import { createUseCases } from '../../../../../functions/core/app/use-cases.ts';
import { OUTSIDE_ACTOR, ROTATION_ACTOR } from '../../../../../functions/core/domain/change-journal.ts';
import { computeEtag, toPublicClient, toUpdate } from '../../../../../functions/core/domain/client-state.ts';
import { parseEtagKey } from '../../../../../functions/core/domain/etag-key.ts';
import { type AffixClient, parseAffixClient } from '../../../../../functions/core/domain/schemas.ts';
import type { SharedState } from '../../../../../functions/core/domain/state-item.ts';
import { fieldDigests } from '../../../../../functions/core/domain/state-item.ts';
import type { AffixPort, CallContext, StateChange, StateStore } from '../../../../../functions/core/ports.ts';

const SECRET = 'secret-SSSS-ssss-1111-current';
const ADDED = 'secret-TTTT-tttt-2222-added-one';
const ETAG_KEY = parseEtagKey(Buffer.alloc(32, 7).toString('base64'));
const ARN = 'arn:aws:sts::123456789012:assumed-role/writer/session';
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);

function client(overrides: Partial<AffixClient> = {}): AffixClient {
  const parsed = parseAffixClient({
    client_id: 'client-1',
    client_secret: [SECRET],
    name: 'Journal App',
    redirect_uris: ['https://app.example.com/callback'],
    webhook_uri: 'https://hooks.example.com/affix',
  });
  if (parsed === undefined) throw new Error('not an Affix client');
  return { ...parsed, ...overrides };
}

/** A store that holds `state` and records each change it is asked to apply. */
function recordingStore(state: SharedState = { spent: new Map() }) {
  const applied: StateChange[] = [];
  const store: StateStore = {
    load: async () => ({ state, refused: [] }),
    acquire: async () => ({ acquired: true, parsed: { state, refused: [] } }),
    apply: async (change) => {
      applied.push(change);
      return { observed: change.observe !== undefined };
    },
  };
  return { store, applied };
}

function setup(state?: SharedState, start: AffixClient = client()) {
  const affixState = { client: start };
  const inner: AffixPort = {
    getClient: async () => affixState.client,
    replaceClient: async (update) => {
      const { extra, ...fields } = update;
      affixState.client = { ...fields, client_id: affixState.client.client_id, extra };
      return affixState.client;
    },
  };
  const { store, applied } = recordingStore(state);
  const credentials = {
    get: async () => ({ clientId: 'client-1', clientSecret: SECRET, etagKey: ETAG_KEY }),
    refresh: async () => ({ clientId: 'client-1', clientSecret: SECRET, etagKey: ETAG_KEY }),
  };
  const keeper = createSharedState({
    store,
    credentials,
    report: () => {},
    onStoreFailure: () => {},
    now: () => NOW,
  });
  const affix = keeper.affix(inner);
  const writeLock = createLeaseWriteLock({ store, keeper, leaseMs: 30_000, token: () => 'owner-1' });
  return { useCases: createUseCases({ affix, credentials, writeLock }), applied, affixState };
}

const call = (actor = ARN, requestId = 'request-1'): CallContext => ({
  deadline: createDeadline(5_000),
  author: { actor, requestId },
});
const journals = (applied: StateChange[]) => applied.flatMap((change) => change.journal ?? []);

describe('the journal entry of a write', () => {
  it('goes in the release (with the lease given up), names the changed field, the caller and both ETags', async () => {
    const { useCases, applied } = setup();
    const before = computeEtag(client(), ETAG_KEY);
    const result = await useCases.patchClient(
      { name: 'Renamed', webhook_uri: 'https://hooks.example.com/affix' },
      call(),
      {
        ifMatch: before,
      },
    );
    expect(applied.map((change) => change.journal?.length ?? 0)).toEqual([0, 1]);
    expect(applied[1]?.lease).toEqual({ release: 'owner-1' });
    expect(journals(applied)).toEqual([
      {
        at: new Date(NOW).toISOString(),
        actor: ARN,
        request_id: 'request-1',
        fields: [{ field: 'name', before: 'Journal App', after: 'Renamed' }],
        etag_before: before,
        etag_after: result.etag,
      },
    ]);
  });

  it('shows a secret replacement with masked tails only', async () => {
    const { useCases, applied } = setup();
    await useCases.replaceSecrets([SECRET, ADDED], call(ROTATION_ACTOR, 'run-1'));
    const [entry] = journals(applied);
    expect(entry?.actor).toBe(ROTATION_ACTOR);
    expect(entry?.request_id).toBe('run-1');
    expect(entry?.fields).toEqual([
      { field: 'client_secret', before: ['****rent'], after: ['****rent', '****-one'] },
    ]);
    expect(JSON.stringify(applied)).not.toContain(SECRET);
    expect(JSON.stringify(applied)).not.toContain(ADDED);
  });

  it('a no-op write and a 412 ask for no entry', async () => {
    const { useCases, applied } = setup();
    await useCases.patchClient({ name: 'Journal App' }, call());
    await useCases
      .patchClient({ name: 'x' }, call(), { ifMatch: '"AAAAAAAAAAAAAAAAAAAAAA"' })
      .catch(() => {});
    expect(journals(applied)).toEqual([]);
    expect(applied.every((change) => change.observe?.entry === undefined)).toBe(true);
  });

  it('a call that names no author is journaled as unknown, under a request id of its own', async () => {
    const { useCases, applied } = setup();
    await useCases.patchClient({ name: 'Renamed' }, { deadline: createDeadline(5_000) });
    const [entry] = journals(applied);
    expect(entry?.actor).toBe('unknown');
    expect(entry?.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('the journal entry of an outside change', () => {
  it('goes with the observation: the view the state held before, the fresh read after', async () => {
    const known = client();
    const etagBefore = computeEtag(known, ETAG_KEY);
    const state: SharedState = {
      spent: new Map(),
      view: { client: toPublicClient(known), etag: etagBefore, readAtMs: NOW - 60_000 },
      seen: { fields: fieldDigests(toUpdate(known), ETAG_KEY), version: 4 },
    };
    const changed = client({ webhook_uri: 'https://attacker.example.com/hook' });
    const { useCases, applied } = setup(state, changed);
    await useCases.getClient(call(ARN, 'reader-1'));
    expect(applied).toHaveLength(1);
    expect(applied[0]?.journal).toBeUndefined();
    expect(applied[0]?.observe?.expectedVersion).toBe(4);
    expect(applied[0]?.observe?.entry).toEqual({
      at: new Date(NOW).toISOString(),
      actor: OUTSIDE_ACTOR,
      request_id: 'reader-1',
      fields: [
        {
          field: 'webhook_uri',
          before: 'https://hooks.example.com/affix',
          after: 'https://attacker.example.com/hook',
        },
      ],
      etag_before: etagBefore,
      etag_after: computeEtag(changed, ETAG_KEY),
    });
  });

  it('is not built without a view to show the before of (nor for a first read)', async () => {
    const known = client();
    const noView = setup(
      { spent: new Map(), seen: { fields: fieldDigests(toUpdate(known), ETAG_KEY), version: 1 } },
      client({ name: 'Other' }),
    );
    await noView.useCases.getClient(call());
    expect(noView.applied[0]?.observe).toBeDefined();
    expect(noView.applied[0]?.observe?.entry).toBeUndefined();
    const first = setup();
    await first.useCases.getClient(call());
    expect(first.applied[0]?.observe?.entry).toBeUndefined();
  });
});
