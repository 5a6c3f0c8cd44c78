/**
 * The shared state around the Affix port, in process: an in-memory state store (test/support) stands
 * for the DynamoDB item, an in-memory Affix for the API, and two keepers on one store for two
 * containers. The clock is injected. The same keeper over DynamoDB and the sandbox is tested in
 * test/integration/functions/core/app/shared-state.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import {
  createLeaseWriteLock,
  createSharedState,
  ReadsExhaustedError,
  type SharedStateOptions,
} from '../../../../../functions/core/app/shared-state.ts';
import { computeEtag, toPublicClient, toUpdate } from '../../../../../functions/core/domain/client-state.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import type { AffixClient } from '../../../../../functions/core/domain/schemas.ts';
import {
  bucketOf,
  DEFAULT_AFFIX_LIMIT,
  fieldDigests,
  type StatePart,
  spentAttribute,
  type WatchedField,
  WRITER_RESERVE,
} from '../../../../../functions/core/domain/state-item.ts';
import { outcomeToProblem } from '../../../../../functions/core/domain/upstream-outcome.ts';
import type { AffixPort, CallContext } from '../../../../../functions/core/ports.ts';
import { ETAG_KEY, parsedClient, SECRET_A } from '../../../../support/affix-fixtures.ts';
import {
  appliedChanges,
  createInMemoryStateStore,
  type InMemoryStateStore,
} from '../../../../support/in-memory-state-store.ts';

const START_MS = 1_750_000_000_020;
const digestsOf = (client: AffixClient) => fieldDigests(toUpdate(client), ETAG_KEY);

/** Affix in memory: one client, replaced whole; `next` makes the next call fail instead. */
function inMemoryAffix(client: AffixClient = parsedClient()) {
  const affix = { client, gets: 0, posts: 0, next: undefined as unknown };
  const failNext = () => {
    const error = affix.next;
    affix.next = undefined;
    if (error !== undefined) throw error;
  };
  const port: AffixPort = {
    async getClient() {
      affix.gets += 1;
      failNext();
      return affix.client;
    },
    async replaceClient(update) {
      affix.posts += 1;
      failNext();
      const { extra, ...fields } = update;
      affix.client = { ...fields, client_id: affix.client.client_id, extra };
      return affix.client;
    },
  };
  return { affix, port };
}

/** One container: a keeper over the shared store, with its own reports and store failures. */
function container(
  store: InMemoryStateStore,
  clock: { ms: number },
  extra: Partial<SharedStateOptions> = {},
) {
  const reports: WatchedField[][] = [];
  const failures: string[] = [];
  const refused: StatePart[][] = [];
  const keeper = createSharedState({
    store,
    credentials: { get: async () => ({ clientId: 'id', clientSecret: 'secret', etagKey: ETAG_KEY }) },
    report: (fields) => reports.push(fields),
    onStoreFailure: (operation) => failures.push(operation),
    onRefused: (parts) => refused.push(parts),
    now: () => clock.ms,
    ...extra,
  });
  const call = (extra: Partial<CallContext> = {}): CallContext => ({
    deadline: createDeadline(10_000, () => clock.ms),
    budget: {},
    ...extra,
  });
  return { keeper, reports, failures, refused, call };
}

function world(store = createInMemoryStateStore()) {
  const clock = { ms: START_MS };
  const { affix, port } = inMemoryAffix();
  const a = container(store, clock);
  const b = container(store, clock);
  return { store, clock, affix, port, a, b };
}

describe('the view, fed by every exchange', () => {
  it('a read stores the masked client, its ETag and when the read began, and counts one request', async () => {
    const { store, affix, port, a, clock } = world();
    const client = await a.keeper.affix(port).getClient(a.call());
    expect(client).toBe(affix.client);
    expect(store.item?.view).toEqual({
      client: toPublicClient(affix.client),
      etag: computeEtag(affix.client, ETAG_KEY),
      readAtMs: clock.ms,
    });
    expect(JSON.stringify(store.item)).not.toContain(SECRET_A);
    expect(store.item?.[spentAttribute(bucketOf(clock.ms))]).toBe(1);
  });

  it('another container sees the view and the count through its own state read', async () => {
    const { port, a, b, clock } = world();
    await a.keeper.affix(port).getClient(a.call());
    const seen = await b.keeper.state(b.call());
    expect(seen.view?.readAtMs).toBe(clock.ms);
    expect(seen.spent.get(bucketOf(clock.ms))).toBe(1);
  });

  it('an older read never replaces a newer view', async () => {
    const { store, port, a, b, clock } = world();
    const older = b.call();
    await b.keeper.state(older); // loaded before the newer read
    clock.ms += 1_000;
    await a.keeper.affix(port).getClient(a.call());
    const newer = store.item?.view;
    clock.ms -= 500; // b's read began before a's
    await b.keeper.affix(port).getClient(older);
    expect(store.item?.view).toEqual(newer);
  });

  it('reads the state once per call, however many exchanges it makes', async () => {
    const { store, port, a } = world();
    const call = a.call();
    await a.keeper.affix(port).getClient(call);
    await a.keeper.affix(port).getClient(call);
    expect(store.calls.filter((c) => c.operation === 'load')).toHaveLength(1);
    // The second exchange knew of the first: two requests counted.
    expect((await a.keeper.state(call)).spent.get(bucketOf(START_MS))).toBe(2);
  });

  it('refuses a malformed part of the item, names it, and never serves it', async () => {
    const store = createInMemoryStateStore();
    store.item = {
      view: { client: { client_secret: [SECRET_A] }, etag: 'x', readAtMs: 1 },
      notBeforeMs: 1e100,
    };
    const { a } = world(store);
    const state = await a.keeper.state(a.call());
    expect(state.view).toBeUndefined();
    expect(state.notBeforeMs).toBeUndefined();
    expect(a.refused).toEqual([['view', 'back-off']]);
  });
});

describe('the shared back-off', () => {
  const rateLimited = (retryAfterSeconds: number) =>
    outcomeToProblem({ kind: 'status', status: 429, retryAfterSeconds });

  it('after one 429 with Retry-After 60, every container answers 429 without calling Affix, counting down', async () => {
    const { store, affix, port, a, b, clock } = world();
    affix.next = rateLimited(60);
    await expect(a.keeper.affix(port).getClient(a.call())).rejects.toMatchObject({
      slug: 'upstream-rate-limited',
    });
    expect(store.item?.notBeforeMs).toBe(START_MS + 60_000);
    clock.ms += 10_000;
    const call = b.call();
    const refused = await b.keeper
      .affix(port)
      .getClient(call)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProblemError);
    expect(refused).toMatchObject({ slug: 'upstream-rate-limited', retryAfterSeconds: 50 });
    expect(call.budget?.answeredFrom).toBe('backoff');
    expect(affix.gets).toBe(1);
    // Writes wait too: nothing is sent while Affix rate-limits the client.
    await expect(b.keeper.affix(port).replaceClient(toUpdate(affix.client), b.call())).rejects.toMatchObject({
      slug: 'upstream-rate-limited',
    });
    expect(affix.posts).toBe(0);
    clock.ms += 50_000;
    await expect(b.keeper.affix(port).getClient(b.call())).resolves.toBe(affix.client);
  });

  it('caps an absurd Retry-After at Affix’s window (300 s)', async () => {
    const { store, affix, port, a } = world();
    affix.next = rateLimited(86_400);
    await a.keeper
      .affix(port)
      .getClient(a.call())
      .catch(() => undefined);
    expect(store.item?.notBeforeMs).toBe(START_MS + 300_000);
  });

  it('starts no back-off from a 429 without Retry-After, or from another failure', async () => {
    const { store, affix, port, a } = world();
    affix.next = outcomeToProblem({ kind: 'status', status: 429 });
    await a.keeper
      .affix(port)
      .getClient(a.call())
      .catch(() => undefined);
    affix.next = outcomeToProblem({ kind: 'status', status: 503 });
    await a.keeper
      .affix(port)
      .getClient(a.call())
      .catch(() => undefined);
    expect(store.item?.notBeforeMs).toBeUndefined();
    // Both failed requests were counted.
    expect(store.item?.[spentAttribute(bucketOf(START_MS))]).toBe(2);
  });

  it('a state store that fails never fails the request: Affix is asked, the failure is told', async () => {
    const { store, affix, port, a } = world();
    store.fail = () => new Error('store down');
    await expect(a.keeper.affix(port).getClient(a.call())).resolves.toBe(affix.client);
    expect(a.failures).toEqual(['read', 'write']);
  });
});

describe('the readers’ share of the budget', () => {
  const share = DEFAULT_AFFIX_LIMIT - WRITER_RESERVE;

  it('refuses a read once the share is spent, without calling Affix, and says so', async () => {
    const store = createInMemoryStateStore({ spent: { [bucketOf(START_MS)]: share } });
    const { affix, port, a } = world(store);
    const call = a.call();
    const error = await a.keeper
      .affix(port)
      .getClient(call)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReadsExhaustedError);
    expect((error as ProblemError).slug).toBe('upstream-rate-limited');
    expect((error as ProblemError).retryAfterSeconds).toBeGreaterThan(0);
    expect(call.budget?.readsExhausted).toBe(true);
    expect(affix.gets).toBe(0);
    // A refused read starts no back-off for anyone.
    expect(store.item?.notBeforeMs).toBeUndefined();
  });

  it('lets one more read in just below the share', async () => {
    const store = createInMemoryStateStore({ spent: { [bucketOf(START_MS)]: share - 1 } });
    const { affix, port, a } = world(store);
    await expect(a.keeper.affix(port).getClient(a.call())).resolves.toBe(affix.client);
  });

  it('lets a write (or the rotation) spend the reserve the readers may not', async () => {
    const store = createInMemoryStateStore({ spent: { [bucketOf(START_MS)]: share } });
    const { affix, port, a } = world(store);
    await expect(a.keeper.affix(port).getClient(a.call({ purpose: 'write' }))).resolves.toBe(affix.client);
  });
});

describe('the outside-change watch', () => {
  it('records the first read quietly, then reports a change made at Affix once, by field name', async () => {
    const { store, affix, port, a, b } = world();
    await a.keeper.affix(port).getClient(a.call());
    expect(store.item?.fields).toEqual(digestsOf(affix.client));
    expect(a.reports).toEqual([]);
    affix.client = { ...affix.client, webhook_uri: 'https://evil.example.com/hook' };
    await b.keeper.affix(port).getClient(b.call());
    await a.keeper.affix(port).getClient(a.call());
    expect([...a.reports, ...b.reports]).toEqual([['webhook_uri']]);
  });

  it('never reports a write through the proxy, also to a reader racing it before the release', async () => {
    const { store, affix, port, a, b, clock } = world();
    await b.keeper.affix(port).getClient(b.call());
    const lock = createLeaseWriteLock({
      store,
      keeper: a.keeper,
      leaseMs: 30_000,
      sleep: async () => undefined,
    });
    const writer = a.keeper.affix(port);
    const call = a.call();
    await lock.runExclusive(call, async () => {
      const current = await writer.getClient(call);
      await writer.replaceClient({ ...toUpdate(current), name: 'Renamed by the proxy' }, call);
      // A reader in another container between the POST and the release: the pending marker is ours.
      expect(store.item?.pending).toEqual(digestsOf(affix.client));
      clock.ms += 1;
      await b.keeper.affix(port).getClient(b.call());
    });
    await b.keeper.affix(port).getClient(b.call());
    expect([...a.reports, ...b.reports]).toEqual([]);
    expect(store.item?.fields).toEqual(digestsOf(affix.client));
    expect(store.item?.pending).toBeUndefined();
  });

  it('keeps the pending marker when the POST may have been applied or may still land, clears it when refused', async () => {
    for (const [error, pendingKept] of [
      [outcomeToProblem({ kind: 'attempt-timeout' }), true],
      [outcomeToProblem({ kind: 'status', status: 502 }), true],
      [outcomeToProblem({ kind: 'status', status: 400 }), false],
    ] as const) {
      const { store, affix, port, a } = world();
      const call = a.call({ purpose: 'write' });
      const writer = a.keeper.affix(port);
      await writer.getClient(call);
      affix.next = error;
      await expect(writer.replaceClient({ ...toUpdate(affix.client), name: 'Next' }, call)).rejects.toBe(
        error,
      );
      expect(store.item?.pending !== undefined, error.slug).toBe(pendingKept);
      expect(
        appliedChanges(store).some((change) => change.pending === 'clear'),
        error.slug,
      ).toBe(!pendingKept);
    }
  });
});

describe('under the write lease', () => {
  it('writes the read’s records with the pending marker (requiring the lease) and the result with the release: three writes', async () => {
    const { store, affix, port, a } = world();
    const lock = createLeaseWriteLock({ store, keeper: a.keeper, leaseMs: 30_000, token: () => 'writer' });
    const writer = a.keeper.affix(port);
    const call = a.call();
    await lock.runExclusive(call, async () => {
      const current = await writer.getClient(call);
      return writer.replaceClient({ ...toUpdate(current), name: 'Renamed' }, call);
    });
    const [pending, release] = appliedChanges(store);
    expect(appliedChanges(store)).toHaveLength(2);
    expect(pending?.lease).toEqual({ require: 'writer' });
    expect(pending?.pending).toBeDefined();
    expect(pending?.view).toBeDefined(); // the read under the lease, buffered until the POST
    expect(release?.lease).toEqual({ release: 'writer' });
    expect(release?.written?.fields).toEqual(digestsOf(affix.client));
    expect(store.calls.map((c) => c.operation)).toEqual(['acquire', 'apply', 'apply']);
  });

  it('sends nothing to Affix when the lease was taken over before the POST', async () => {
    const { store, affix, port, a } = world();
    const lock = createLeaseWriteLock({ store, keeper: a.keeper, leaseMs: 30_000, token: () => 'writer' });
    const writer = a.keeper.affix(port);
    const call = a.call();
    const error = await lock
      .runExclusive(call, async () => {
        const current = await writer.getClient(call);
        if (store.item !== undefined) store.item.owner = 'someone-else';
        return writer.replaceClient(toUpdate(current), call);
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ slug: 'write-contention' });
    expect(affix.posts).toBe(0);
  });
});
