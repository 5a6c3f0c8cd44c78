/**
 * The shared state item in use: around the Affix port, and as the write lease. Every Affix exchange
 * of any function goes through {@link SharedStateKeeper.affix}, which, per call,
 *
 * - reads the state item once (or takes it from the write lease's acquisition) and refuses to call
 *   Affix while a back-off runs, or, for a read, when the readers' share of the budget is spent;
 * - after every successful read or write stores the masked view (client, ETag, read time; only if
 *   newer), adds the requests to the shared count, and judges the read for outside changes;
 * - under the write lease, keeps those records for the lease's next write (the pending marker
 *   before the POST, or the release), so a write costs three state writes at most;
 * - builds the change journal's entries: a write's (the read under the lease against Affix's answer,
 *   for the call's author) goes with the write's record, an outside change's (the view the state held
 *   against the fresh read) with the observation that records it, so it is journaled once.
 *
 * The write lock ({@link createLeaseWriteLock}) is a lease on the same item and shares the calls'
 * sessions with the decorator: its acquisition hands the call the state it read, its release writes
 * what the call recorded meanwhile.
 *
 * @example
 * const keeper = createSharedState({ store, credentials, report, onStoreFailure });
 * const affix = keeper.affix(createAffixHttpClient(options));
 * const writeLock = createLeaseWriteLock({ store, keeper, leaseMs: 30_000 });
 */
import { randomUUID } from 'node:crypto';
import { type ChangeAuthor, type ChangeEntry, changeEntry, OUTSIDE_ACTOR } from '../domain/change-journal.ts';
import { computeEtag, toPublicClient, toUpdate } from '../domain/client-state.ts';
import { ProblemError } from '../domain/problems.ts';
import type { AffixClient } from '../domain/schemas.ts';
import {
  AFFIX_WINDOW_MS,
  backoffRemainingSeconds,
  bucketOf,
  cappedRetryAfter,
  contentionRetryAfterSeconds,
  DEFAULT_AFFIX_LIMIT,
  type DigestedClient,
  differingFields,
  EMPTY_STATE,
  expiredBuckets,
  type FieldDigests,
  fieldDigests,
  judgeRead,
  LeaseLostError,
  leaseBackoffMs,
  leaseDurationMs,
  MAX_CLOCK_SKEW_MS,
  type ParsedState,
  readShare,
  type SharedState,
  type StatePart,
  type StateView,
  type WatchedField,
  workReserveMs,
  writeAbandoned,
  writeContention,
  writeLockUnavailable,
} from '../domain/state-item.ts';
import { failedWrite } from '../domain/upstream-outcome.ts';
import type {
  AffixPort,
  CallContext,
  CredentialsProvider,
  StateChange,
  StateStore,
  WriteLock,
} from '../ports.ts';
import { abortableSleep } from './abortable-sleep.ts';
import { timeLimit } from './deadline.ts';
import { describeFailure } from './failure-summary.ts';

/** What one call knows of the shared state, and what it still has to write under the lease. */
interface Session {
  loading?: Promise<SharedState>;
  /** The lease's owner token while this call holds the write lease. */
  owner?: string;
  /** Records kept for the lease's next write. */
  buffer: StateChange;
  /** Reports to make once the buffered digests are recorded. */
  reports: WatchedField[][];
  /** What this call last read, with its digests: the state a write of it replaces. */
  read?: DigestedClient;
  /** The same read as `GET /client` shows it: the journal entry's "before" and its ETag. */
  readView?: StateView;
  /** A POST of this call got no answer: it may still land at Affix later. */
  writeInDoubt?: boolean;
}

export interface SharedStateOptions {
  store: StateStore;
  credentials: Pick<CredentialsProvider, 'get'>;
  /** Told once per outside change, with the changed fields' names (never values). */
  report: (fields: WatchedField[]) => void;
  /** A failed state read or write: the request goes on as without shared state. */
  onStoreFailure: (operation: string, error: unknown) => void;
  /** Parts of the item that did not validate and were treated as absent. */
  onRefused?: (parts: StatePart[]) => void;
  /** Affix's requests per client id per 5 minutes (default 40). */
  limit?: number;
  /** Wall clock (epoch ms): instants are compared across containers. */
  now?: () => number;
}

/** The answer while the back-off lasts: nothing was sent to Affix. */
export function backoffProblem(retryAfterSeconds: number): ProblemError {
  return new ProblemError(
    'upstream-rate-limited',
    'Affix is rate limiting this proxy; nothing was sent to Affix. Retry after the Retry-After delay.',
    { retryAfterSeconds, cause: { reason: 'shared-backoff' } },
  );
}

/** A read found the readers' share of Affix's budget spent: nothing was sent to Affix. */
export class ReadsExhaustedError extends ProblemError {
  constructor(retryAfterSeconds: number) {
    super(
      'upstream-rate-limited',
      "The proxy's share of Affix's rate limit for reads is spent (writes keep theirs); nothing was sent to Affix. Retry after the Retry-After delay.",
      { retryAfterSeconds, cause: { reason: 'reads-exhausted' } },
    );
  }
}

export interface SharedStateKeeper {
  /** Wraps an Affix port so every exchange through it reads and feeds the shared state. */
  affix(port: AffixPort): AffixPort;
  /** The call's view of the shared state (read once per call). */
  state(call: CallContext): Promise<SharedState>;
  /** For the write lock: the call now holds the lease, with the state read as it was taken. */
  holdLease(call: CallContext, owner: string, parsed: ParsedState): void;
  /**
   * For the write lock: what the release writes beside giving up the lease, the reports due after,
   * and whether a POST of the call may still land (then the lease must be kept until it expires).
   */
  takeBuffer(call: CallContext): { change: StateChange; reports: WatchedField[][]; writeInDoubt: boolean };
  /** Reports made once a buffered change recorded the digests. */
  reportAll(reports: WatchedField[][]): void;
  now(): number;
}

/** Merges `next` into `into` (the buffer of a call under the lease). */
function merge(into: StateChange, next: StateChange): void {
  if (next.spend !== undefined) into.spend = [...(into.spend ?? []), ...next.spend];
  if (next.dropBuckets !== undefined)
    into.dropBuckets = [...new Set([...(into.dropBuckets ?? []), ...next.dropBuckets])];
  if (next.view !== undefined && (into.view === undefined || into.view.readAtMs <= next.view.readAtMs)) {
    into.view = next.view;
  }
  if (next.observe !== undefined) {
    // A later observation of the call keeps an outside change's entry that an earlier one carried.
    const entry = next.observe.entry ?? into.observe?.entry;
    into.observe = { ...next.observe, ...(entry === undefined ? {} : { entry }) };
  }
  if (next.journal !== undefined) into.journal = [...(into.journal ?? []), ...next.journal];
  if (next.pending !== undefined) into.pending = next.pending;
  if (next.written !== undefined) into.written = next.written;
  if (
    next.notBeforeMs !== undefined &&
    (into.notBeforeMs === undefined || next.notBeforeMs > into.notBeforeMs)
  ) {
    into.notBeforeMs = next.notBeforeMs;
    into.notBeforeCeilingMs = next.notBeforeCeilingMs;
  }
}

export function createSharedState(options: SharedStateOptions): SharedStateKeeper {
  const now = options.now ?? Date.now;
  const limit = options.limit ?? DEFAULT_AFFIX_LIMIT;
  const sessions = new WeakMap<CallContext, Session>();

  function session(call: CallContext): Session {
    let found = sessions.get(call);
    if (found === undefined) {
      found = { buffer: {}, reports: [] };
      sessions.set(call, found);
    }
    return found;
  }

  function accepted(parsed: ParsedState): SharedState {
    if (parsed.refused.length > 0) options.onRefused?.(parsed.refused);
    return parsed.state;
  }

  function state(call: CallContext): Promise<SharedState> {
    const s = session(call);
    s.loading ??= options.store.load(now(), call.signal).then(accepted, (error: unknown) => {
      options.onStoreFailure('read', error);
      return EMPTY_STATE;
    });
    return s.loading;
  }

  /** The Affix requests an exchange made: the attempts it recorded, or one when not recorded. */
  function spentBy(call: CallContext, before: number | undefined): number {
    if (before === undefined || call.exchanges === undefined) return 1;
    return Math.max(0, call.exchanges.length - before);
  }

  function spendChange(state: SharedState, requests: number, atMs: number): StateChange {
    const dropBuckets = expiredBuckets(state.spent, atMs);
    return {
      ...(requests > 0 ? { spend: [{ bucket: bucketOf(atMs), count: requests }] } : {}),
      ...(dropBuckets.length > 0 ? { dropBuckets } : {}),
    };
  }

  /** Also kept in the call's own copy, so a second exchange of the call counts the first. */
  function countLocally(call: CallContext, requests: number, atMs: number): void {
    const s = session(call);
    if (s.loading === undefined || requests === 0) return;
    s.loading = s.loading.then((known) => {
      const spent = new Map(known.spent);
      spent.set(bucketOf(atMs), (spent.get(bucketOf(atMs)) ?? 0) + requests);
      return { ...known, spent };
    });
  }

  async function record(call: CallContext, change: StateChange, report?: WatchedField[]): Promise<void> {
    const s = session(call);
    if (s.owner !== undefined) {
      merge(s.buffer, change);
      if (report !== undefined) s.reports.push(report);
      return;
    }
    try {
      const { observed } = await options.store.apply(change, now());
      if (observed && report !== undefined) options.report(report);
    } catch (error) {
      options.onStoreFailure('write', error);
    }
  }

  /** What a failed exchange leaves: its requests counted, and after a 429 the shared back-off. */
  function failureChange(state: SharedState, error: unknown, requests: number): StateChange {
    const at = now();
    const change = spendChange(state, requests, at);
    if (
      error instanceof ProblemError &&
      error.slug === 'upstream-rate-limited' &&
      !(error instanceof ReadsExhaustedError)
    ) {
      const seconds = cappedRetryAfter(error.retryAfterSeconds ?? 0);
      if (seconds > 0 && requests > 0) {
        change.notBeforeMs = at + seconds * 1_000;
        change.notBeforeCeilingMs = at + AFFIX_WINDOW_MS + MAX_CLOCK_SKEW_MS;
      }
    }
    return change;
  }

  /** Throws when no Affix request may start: a back-off runs, or a read finds its share spent. */
  function admit(call: CallContext, known: SharedState): void {
    const at = now();
    const backoff = backoffRemainingSeconds(known.notBeforeMs, at);
    if (backoff > 0) {
      if (call.budget !== undefined) call.budget.answeredFrom = 'backoff';
      throw backoffProblem(backoff);
    }
    const isRead = session(call).owner === undefined && call.purpose !== 'write';
    if (!isRead) return;
    const share = readShare(known.spent, at, limit);
    if (!share.allowed) {
      if (call.budget !== undefined) call.budget.readsExhausted = true;
      throw new ReadsExhaustedError(share.retryAfterSeconds);
    }
  }

  async function exchange<T>(
    call: CallContext,
    run: () => Promise<T>,
  ): Promise<{ value: T; requests: number; known: SharedState }> {
    const known = await state(call);
    admit(call, known);
    const before = call.exchanges?.length;
    try {
      const value = await run();
      const requests = spentBy(call, before);
      countLocally(call, requests, now());
      return { value, requests, known };
    } catch (error) {
      const requests = spentBy(call, before);
      countLocally(call, requests, now());
      await record(call, failureChange(known, error, requests));
      throw error;
    }
  }

  /** The view and digests of a client Affix answered; `known`: a client digested already (a write's). */
  async function viewOf(client: AffixClient, readAtMs: number, known?: DigestedClient) {
    const { etagKey } = await options.credentials.get();
    const update = toUpdate(client);
    const digests = fieldDigests(update, etagKey, known);
    return {
      view: { client: toPublicClient(client), etag: computeEtag(client, etagKey), readAtMs },
      digests,
      digested: { client: update, etagKey, digests },
    };
  }

  /** An entry that cannot be built is logged and left out: the record it rides with is written anyway. */
  function journaled(build: () => ChangeEntry | undefined): ChangeEntry | undefined {
    try {
      return build();
    } catch (error) {
      options.onStoreFailure('journal', error);
      return undefined;
    }
  }

  /** A call that does not say whom it acts for is journaled as unknown, under a request id of its own. */
  function authorOf(call: CallContext): ChangeAuthor {
    return call.author ?? { actor: 'unknown', requestId: randomUUID() };
  }

  /** The entry of a write this call's POST made: the read under the lease against Affix's answer. */
  function writtenEntry(
    call: CallContext,
    s: Session,
    after: StateView,
    digests: FieldDigests,
    atMs: number,
  ): ChangeEntry | undefined {
    const { readView } = s;
    const readDigests = s.read?.digests;
    if (readView === undefined || readDigests === undefined) return undefined;
    return journaled(() =>
      changeEntry({
        atMs,
        author: authorOf(call),
        fields: differingFields(readDigests, digests),
        before: readView.client,
        after: after.client,
        etagBefore: readView.etag,
        etagAfter: after.etag,
      }),
    );
  }

  /** The entry of an outside change this call's read found: the shared view the state held against it. */
  function outsideEntry(
    call: CallContext,
    held: StateView | undefined,
    fresh: StateView,
    fields: WatchedField[],
  ): ChangeEntry | undefined {
    // Without the view we had, there is no "before" to show.
    if (held === undefined) return undefined;
    return journaled(() =>
      changeEntry({
        atMs: fresh.readAtMs,
        author: { actor: OUTSIDE_ACTOR, requestId: authorOf(call).requestId },
        fields,
        before: held.client,
        after: fresh.client,
        etagBefore: held.etag,
        etagAfter: fresh.etag,
      }),
    );
  }

  function affix(port: AffixPort): AffixPort {
    return {
      async getClient(call) {
        const startedAt = now();
        const { value: client, requests, known } = await exchange(call, () => port.getClient(call));
        try {
          const { view, digests, digested } = await viewOf(client, startedAt);
          session(call).read = digested;
          session(call).readView = view;
          const verdict = judgeRead(known.seen, digests, startedAt);
          const change: StateChange = { ...spendChange(known, requests, now()), view };
          // The lease holder finding a pending write's state confirms it as seen: a write whose own
          // record was lost (its release failed) must not leave the digests behind Affix for the
          // readers of the next write. A reader records (and reports) only if the version it loaded
          // still holds, that is, if no write through the proxy was recorded during its read.
          const confirmsPending = verdict.kind === 'pending-write' && session(call).owner !== undefined;
          if (verdict.kind === 'first' || verdict.kind === 'outside' || confirmsPending) {
            const entry =
              verdict.kind === 'outside' ? outsideEntry(call, known.view, view, verdict.fields) : undefined;
            change.observe = {
              fields: digests,
              expectedVersion: verdict.kind === 'first' ? undefined : known.seen?.version,
              ...(entry === undefined ? {} : { entry }),
            };
          }
          await record(call, change, verdict.kind === 'outside' ? verdict.fields : undefined);
        } catch (error) {
          options.onStoreFailure('observe', error);
        }
        return client;
      },

      async replaceClient(update, call) {
        const s = session(call);
        const known = await state(call);
        admit(call, known);
        const { etagKey } = await options.credentials.get();
        const intended = fieldDigests(update, etagKey, s.read);
        // Before the POST: a reader racing it must see it as ours (the pending marker), and the
        // records of the read under the lease go with it, in one write.
        const before: StateChange = { ...s.buffer, pending: intended };
        const reports = s.reports;
        s.buffer = {};
        s.reports = [];
        try {
          const { observed } = await options.store.apply(
            s.owner === undefined ? before : { ...before, lease: { require: s.owner } },
            now(),
          );
          if (observed) for (const fields of reports) options.report(fields);
        } catch (error) {
          if (error instanceof LeaseLostError) throw leaseLost();
          // Without the pending record a reader racing this POST may report it: a false alarm, logged.
          options.onStoreFailure('pending', error);
        }
        const result = await exchange(call, () => port.replaceClient(update, call)).catch(
          async (error: unknown) => {
            // A POST that may have been applied keeps its pending marker, so readers see it as ours;
            // one that may still land also keeps the lease (see the write lock's release).
            const left = failedWrite(error);
            if (left === 'may-still-land') s.writeInDoubt = true;
            if (left === 'not-applied') await record(call, { pending: 'clear' });
            throw error;
          },
        );
        const answeredAt = now();
        try {
          const { view, digests } = await viewOf(result.value, answeredAt, {
            client: update,
            etagKey,
            digests: intended,
          });
          const entry = writtenEntry(call, s, view, digests, answeredAt);
          await record(call, {
            ...spendChange(known, result.requests, answeredAt),
            view,
            written: { fields: digests, replaced: s.read?.digests, atMs: answeredAt },
            ...(entry === undefined ? {} : { journal: [entry] }),
          });
        } catch (error) {
          options.onStoreFailure('written', error);
        }
        return result.value;
      },
    };
  }

  return {
    affix,
    state,
    holdLease(call, owner, parsed) {
      const s = session(call);
      s.owner = owner;
      s.loading = Promise.resolve(accepted(parsed));
      s.buffer = {};
      s.reports = [];
    },
    takeBuffer(call) {
      const s = session(call);
      const taken = { change: s.buffer, reports: s.reports, writeInDoubt: s.writeInDoubt === true };
      s.owner = undefined;
      s.writeInDoubt = false;
      s.buffer = {};
      s.reports = [];
      return taken;
    },
    reportAll(reports) {
      for (const fields of reports) options.report(fields);
    },
    now,
  };
}

/** The lease was taken over (it expired) before this writer's POST: nothing was sent to Affix. */
function leaseLost(): ProblemError {
  return new ProblemError(
    'write-contention',
    'Another write to the client took over the write lease; nothing was sent to Affix. Retry after the Retry-After delay.',
    { retryAfterSeconds: 1, cause: { reason: 'lease-lost' } },
  );
}

// ---------------------------------------------------------------------------------------------------
// The write lock as a lease on the shared state item (`StateStore`):
//
// - acquire: one conditional write with a fresh owner token and the lease's expiry (epoch ms), taken
//   only when no unexpired lease exists; it returns the whole state, which the call then uses (the
//   back-off, the budget, the digests) without reading it again. A refused writer learns the holder's
//   expiry and tries again with jittered backoff while at least half its budget is left.
// - release: one conditional write (our token) that gives the lease up together with everything the
//   write recorded meanwhile (view, counts, digests, and the change's journal entry, in one
//   transaction); a failed release is logged as a warning and never replaces the write's own result
//   (the lease then simply expires; a release refused because the lease was lost still appends the
//   entry, one that never reached the table loses it). After a POST that got no answer (a timeout, a
//   broken connection) the same write keeps the lease, which then expires by itself.
// ---------------------------------------------------------------------------------------------------

export interface LeaseWarningLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface LeaseWriteLockOptions {
  store: StateStore;
  keeper: SharedStateKeeper;
  /** The configured lease; a lease is always extended past the invocation's end. */
  leaseMs: number;
  logger?: LeaseWarningLogger;
  random?: () => number;
  /** The pause between tries; given the call's signal, so it may end early when that fires. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The owner token of each acquisition. */
  token?: () => string;
}

type TryOutcome = { kind: 'acquired' } | { kind: 'held'; holderExpiresAtMs: number | undefined };

export function createLeaseWriteLock(options: LeaseWriteLockOptions): WriteLock {
  const { store, keeper } = options;
  const now = keeper.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  const token = options.token ?? randomUUID;

  async function tryAcquire(owner: string, call: CallContext): Promise<TryOutcome> {
    const at = now();
    const expiresAtMs = at + leaseDurationMs(options.leaseMs, call.invocationRemainingMs?.());
    const limit = timeLimit(Math.max(1, Math.ceil(call.deadline.remainingMs())), call.signal);
    let outcome: Awaited<ReturnType<StateStore['acquire']>>;
    try {
      outcome = await store.acquire(owner, expiresAtMs, at, limit.signal);
    } finally {
      limit.clear();
    }
    if (outcome.acquired) {
      keeper.holdLease(call, owner, outcome.parsed);
      return { kind: 'acquired' };
    }
    return { kind: 'held', holderExpiresAtMs: outcome.holder?.expiresAtMs };
  }

  async function release(owner: string, call: CallContext): Promise<void> {
    const { change, reports, writeInDoubt } = keeper.takeBuffer(call);
    // A POST that may still land keeps the lease until it expires (past the invocation's end), so
    // no other writer reads the client before that write has landed or died with this invocation.
    const lease = writeInDoubt ? { require: owner } : { release: owner };
    try {
      const { observed } = await store.apply({ ...change, lease }, now());
      if (observed) keeper.reportAll(reports);
    } catch (error) {
      // Not ours any more (it expired and another writer took it), or the store failed: the lease
      // expires by itself. The write's own answer stands.
      const reason = error instanceof LeaseLostError ? 'not-owner' : 'failed';
      options.logger?.warn('write lease release failed', { lease: { reason, ...describeFailure(error) } });
    }
  }

  async function acquire(owner: string, call: CallContext): Promise<void> {
    const started = performance.now();
    const reserve = workReserveMs(call.deadline);
    const waited = () => Math.round(performance.now() - started);
    for (let attempt = 0; ; attempt += 1) {
      if (call.signal?.aborted) {
        call.onLockWait?.(waited());
        throw writeAbandoned(waited());
      }
      let outcome: TryOutcome;
      try {
        outcome = await tryAcquire(owner, call);
      } catch (error) {
        call.onLockWait?.(waited());
        // The update may have been applied although we saw no answer: give back what may be ours.
        await release(owner, call);
        if (call.signal?.aborted) throw writeAbandoned(waited());
        throw writeLockUnavailable({ reason: 'lock-store-failed', ...describeFailure(error) });
      }
      if (outcome.kind === 'acquired') {
        call.onLockWait?.(waited());
        return;
      }
      const holderRemainingMs =
        outcome.holderExpiresAtMs === undefined ? undefined : Math.max(0, outcome.holderExpiresAtMs - now());
      const delay = leaseBackoffMs(attempt, holderRemainingMs, random);
      if (delay > call.deadline.remainingMs() - reserve) {
        call.onLockWait?.(waited());
        throw writeContention(contentionRetryAfterSeconds(holderRemainingMs, options.leaseMs), waited());
      }
      await sleep(delay, call.signal);
    }
  }

  return {
    async runExclusive(call, work) {
      const owner = token();
      await acquire(owner, call);
      try {
        return await work();
      } finally {
        await release(owner, call);
      }
    },
  };
}
