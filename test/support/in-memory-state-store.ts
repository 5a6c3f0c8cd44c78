/**
 * An in-memory `StateStore` for unit tests of the shared state and the write lease: one item, held as
 * the DynamoDB adapter's unmarshalled attributes and read through the real `parseState`, with the
 * adapter's conditions (lease owner, newer view, later back-off, the digests' version) and its order of
 * dropping optional parts when one fails. Every applied change is kept, and any operation can be made
 * to fail. The adapter itself is tested against dynalite (test/integration).
 */

import {
  LeaseLostError,
  type ParsedState,
  parseState,
  type SeenState,
  type StateView,
  spentAttribute,
} from '../../functions/core/domain/state-item.ts';
import type { StateChange, StateStore } from '../../functions/core/ports.ts';

export type StateOperation = 'load' | 'acquire' | 'apply';

export interface InMemoryStateStore extends StateStore {
  /** The item's attributes, as the adapter stores them (undefined: no item yet). */
  item: Record<string, unknown> | undefined;
  /** Every call, in order: the operation and, for `apply`, the change as it was asked. */
  readonly calls: { operation: StateOperation; change?: StateChange; owner?: string }[];
  /** Returns an error to throw instead of running the operation (undefined: run it). */
  fail: (operation: StateOperation, change?: StateChange) => Error | undefined;
  /** The lease's owner and expiry now, if any. */
  lease(): { owner: string; expiresAtMs: number } | undefined;
}

export interface StateItemSeed {
  lease?: { owner: string; expiresAtMs: number };
  view?: StateView;
  notBeforeMs?: number;
  seen?: Omit<SeenState, 'version'> & { version?: number };
  spent?: Record<number, number>;
}

/** The item the adapter would hold for `seed`. */
export function stateItem(seed: StateItemSeed): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  if (seed.lease !== undefined) Object.assign(item, seed.lease);
  if (seed.view !== undefined) item.view = seed.view;
  if (seed.notBeforeMs !== undefined) item.notBeforeMs = seed.notBeforeMs;
  if (seed.seen !== undefined) {
    const { fields, version, pending, replaced, changedAtMs } = seed.seen;
    Object.assign(item, { fields, version: version ?? 1 });
    if (pending !== undefined) item.pending = pending;
    if (replaced !== undefined) item.replaced = replaced;
    if (changedAtMs !== undefined) item.changedAtMs = changedAtMs;
  }
  for (const [bucket, count] of Object.entries(seed.spent ?? {}))
    item[spentAttribute(Number(bucket))] = count;
  return item;
}

type Optional = 'view' | 'observe' | 'back-off';

class ConditionFailed extends Error {}

function applyTo(item: Record<string, unknown>, change: StateChange, without: ReadonlySet<Optional>): void {
  if (change.lease !== undefined) {
    const owner = 'require' in change.lease ? change.lease.require : change.lease.release;
    if (item.owner !== owner) throw new ConditionFailed('lease');
  }
  const view = item.view as StateView | undefined;
  const useView = change.view !== undefined && !without.has('view');
  if (useView && view !== undefined && !(view.readAtMs < (change.view as StateView).readAtMs)) {
    throw new ConditionFailed('view');
  }
  const useObserve = change.observe !== undefined && change.written === undefined && !without.has('observe');
  if (useObserve && change.observe !== undefined) {
    const holds =
      change.observe.expectedVersion === undefined
        ? item.fields === undefined
        : item.version === change.observe.expectedVersion;
    if (!holds) throw new ConditionFailed('observe');
  }
  const useBackoff = change.notBeforeMs !== undefined && !without.has('back-off');
  if (useBackoff && typeof item.notBeforeMs === 'number') {
    const next = change.notBeforeMs as number;
    const ceiling = change.notBeforeCeilingMs ?? next;
    if (!(item.notBeforeMs < next || item.notBeforeMs > ceiling)) throw new ConditionFailed('back-off');
  }

  const spentNow = new Set<number>();
  for (const { bucket, count } of change.spend ?? []) {
    const name = spentAttribute(bucket);
    item[name] = ((item[name] as number | undefined) ?? 0) + count;
    spentNow.add(bucket);
  }
  for (const bucket of change.dropBuckets ?? [])
    if (!spentNow.has(bucket)) delete item[spentAttribute(bucket)];
  if (useView) item.view = change.view;
  let movesVersion = false;
  if (useObserve) {
    item.fields = change.observe?.fields;
    movesVersion = true;
  }
  if (change.written !== undefined) {
    item.fields = change.written.fields;
    item.changedAtMs = change.written.atMs;
    if (change.written.replaced !== undefined) item.replaced = change.written.replaced;
    movesVersion = true;
  }
  if (change.pending === 'clear' || (change.written !== undefined && change.pending === undefined)) {
    delete item.pending;
    movesVersion = true;
  } else if (change.pending !== undefined) {
    item.pending = change.pending;
    movesVersion = true;
  }
  if (movesVersion) item.version = ((item.version as number | undefined) ?? 0) + 1;
  if (useBackoff) item.notBeforeMs = change.notBeforeMs;
  if (change.lease !== undefined && 'release' in change.lease) {
    delete item.owner;
    delete item.expiresAtMs;
  }
}

export function createInMemoryStateStore(seed?: StateItemSeed): InMemoryStateStore {
  const store: InMemoryStateStore = {
    item: seed === undefined ? undefined : stateItem(seed),
    calls: [],
    fail: () => undefined,
    lease() {
      const { owner, expiresAtMs } = store.item ?? {};
      return typeof owner === 'string' && typeof expiresAtMs === 'number'
        ? { owner, expiresAtMs }
        : undefined;
    },

    async load(nowMs): Promise<ParsedState> {
      store.calls.push({ operation: 'load' });
      const failure = store.fail('load');
      if (failure !== undefined) throw failure;
      return parseState(structuredClone(store.item), nowMs);
    },

    async acquire(owner, expiresAtMs, nowMs) {
      store.calls.push({ operation: 'acquire', owner });
      const failure = store.fail('acquire');
      if (failure !== undefined) throw failure;
      const held = store.lease();
      if (held !== undefined && held.owner !== owner && !(held.expiresAtMs < nowMs)) {
        return { acquired: false, holder: held };
      }
      store.item = { ...(store.item ?? {}), owner, expiresAtMs };
      return { acquired: true, parsed: parseState(structuredClone(store.item), nowMs) };
    },

    async apply(change, _nowMs) {
      store.calls.push({ operation: 'apply', change: structuredClone(change) });
      const failure = store.fail('apply', change);
      if (failure !== undefined) throw failure;
      const present = new Set<Optional>([
        ...(change.view === undefined ? [] : (['view'] as const)),
        ...(change.notBeforeMs === undefined ? [] : (['back-off'] as const)),
        ...(change.observe === undefined || change.written !== undefined ? [] : (['observe'] as const)),
      ]);
      // The adapter's order: everything, then without view and back-off, then without the digests too.
      const steps: Optional[][] = [[]];
      if (present.has('view') || present.has('back-off')) steps.push(['view', 'back-off']);
      if (present.has('observe')) steps.push(['view', 'back-off', 'observe']);
      for (const without of steps) {
        const next = structuredClone(store.item ?? {});
        try {
          applyTo(next, change, new Set(without));
        } catch (error) {
          if (error instanceof ConditionFailed) continue;
          throw error;
        }
        store.item = next;
        return { observed: present.has('observe') && !without.includes('observe') };
      }
      if (change.lease !== undefined) throw new LeaseLostError('the write lease is held by another writer');
      return { observed: false };
    },
  };
  return store;
}

/** The applied changes (in order), for assertions. */
export const appliedChanges = (store: InMemoryStateStore): StateChange[] =>
  store.calls.flatMap((call) => (call.change === undefined ? [] : [call.change]));
