/**
 * The ports: what the use cases need from the world, as types only (no AWS, no HTTP). Adapters
 * (`affix-http.ts`, `dynamodb-write-lock.ts`, `ssm-credentials.ts`) implement them; the use cases,
 * the rotation job and the tests import them from here, never from an adapter.
 *
 * `AffixPort` is a plain object of two async functions, so a decorator (a cache, a back-off, a
 * metric) wraps it by returning another such object.
 *
 * @example
 * const counted: AffixPort = {
 *   getClient: (call) => { reads += 1; return affix.getClient(call); },
 *   replaceClient: (update, call) => affix.replaceClient(update, call),
 * };
 */
import type { BudgetNotes } from './domain/budget-notes.ts';
import type { ChangeAuthor, ChangeEntry } from './domain/change-journal.ts';
import type { EtagKey } from './domain/etag-key.ts';
import type { SsmSecretState } from './domain/rotation-state.ts';
import type { AffixClient, AffixClientUpdate } from './domain/schemas.ts';
import type { FieldDigests, ParsedState, StateLease, StateView } from './domain/state-item.ts';

/** One HTTP exchange with Affix, reported for audit logs and metrics. */
export interface UpstreamExchange {
  method: 'GET' | 'POST';
  /** The HTTP status, or the kind of failure when there was none. */
  status: number | 'network-error' | 'timeout';
  latencyMs: number;
}

/** A request's time budget for upstream work, on the monotonic clock (`app/deadline.ts` makes one). */
export interface Deadline {
  /** Milliseconds left, never negative. */
  remainingMs(): number;
  /** The budget this deadline started with. */
  readonly budgetMs: number;
}

/** What one request (or one rotation step) carries through every port it calls. */
export interface CallContext {
  deadline: Deadline;
  /**
   * Fires when the invocation is given up (middy's early-timeout backstop): no Affix attempt, backoff
   * sleep or lease try starts after it, and a running fetch is aborted.
   */
  signal?: AbortSignal;
  /** Filled with every exchange made for this call. */
  exchanges?: UpstreamExchange[];
  /** The Lambda invocation's remaining time, when known: a write lease must outlive the invocation. */
  invocationRemainingMs?: () => number;
  /** Told how long a write waited for its lease (ms), for the audit line and the metric. */
  onLockWait?: (waitMs: number) => void;
  /** Filled by the read cache and the shared back-off: where the answer came from. */
  budget?: BudgetNotes;
  /**
   * Whose share of Affix's rate budget the call spends: `write` (writes and the rotation job, which
   * keep a reserve) or `read` (the default: GETs and webhook verification, which use only the rest).
   */
  purpose?: 'read' | 'write';
  /** Whom a change made by this call is journaled for (the audit line's caller and request id). */
  author?: ChangeAuthor;
}

/** The proxy's secrets (SSM in production, cached per container by `credentials.ts`). */
export interface AffixCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Everything read in the one SSM call: the Affix credentials and the key our ETags are made with. */
export interface ProxyCredentials extends AffixCredentials {
  readonly etagKey: EtagKey;
}

export interface CredentialsProvider {
  /** Cached credentials, fetched if absent or expired. */
  get(): Promise<ProxyCredentials>;
  /**
   * Fresh credentials, replacing the cache when the read succeeds (joins a fetch that is already under
   * way). Rejects when the read fails, and then leaves the cached value as it was.
   */
  refresh(): Promise<ProxyCredentials>;
}

/** Affix's management client API: read the client, and replace it whole (Affix's POST). */
export interface AffixPort {
  getClient(call: CallContext): Promise<AffixClient>;
  /** Sends the full object: every field not in `update` (but in `update.extra`) is lost at Affix. */
  replaceClient(update: AffixClientUpdate, call: CallContext): Promise<AffixClient>;
}

/** Runs `work` while this request holds the one write lease, and releases it afterwards. */
export interface WriteLock {
  /**
   * Waits (within the call's deadline, and until its signal) for the lease, runs `work`, and releases
   * the lease whatever `work` did. Throws `write-contention` when the lease was not had in time and
   * `write-lock-unavailable` when the lock store failed; `work` does not run in either case.
   */
  runExclusive<T>(call: CallContext, work: () => Promise<T>): Promise<T>;
}

/** Everything the use cases are built from. */
export interface Ports {
  affix: AffixPort;
  credentials: CredentialsProvider;
  /** Makes each write exclusive across containers; reads do not take it. */
  writeLock: WriteLock;
  /** The secret list as last recorded in the shared state; absent where there is none (tests). */
  recordedSecrets?: RecordedSecrets;
}

/** What the shared state says of the secret list, so every container notices a change at once. */
export interface RecordedSecrets {
  /** The digest (`secretListDigest`) of the list last written or seen, or undefined when unknown. */
  digest(call: CallContext): Promise<string | undefined>;
}

/** One conditional write of the shared state item; every part optional. */
export interface StateChange {
  /** Affix requests spent, added to their buckets' counts. */
  spend?: { bucket: number; count: number }[];
  /** Buckets that have left the window. */
  dropBuckets?: number[];
  /** A fresher view: stored only if the item holds none read later. */
  view?: StateView;
  /**
   * A reader's record of the digests: only if the item still holds `expectedVersion` (undefined: none).
   * `observe`, `pending` and `written` each move the version, once per change.
   */
  observe?: {
    fields: FieldDigests;
    expectedVersion: number | undefined;
    /** An outside change's journal entry: written with the observation, and only if it is recorded. */
    entry?: ChangeEntry | undefined;
  };
  /** The state a write is about to send ('clear' after a failed POST). */
  pending?: FieldDigests | 'clear';
  /** A write's result: the digests, the state it replaced and when (drops `pending`). */
  written?: { fields: FieldDigests; replaced: FieldDigests | undefined; atMs: number };
  /** After an Affix 429: only moves later (or replaces a value beyond `notBeforeCeilingMs`). */
  notBeforeMs?: number;
  notBeforeCeilingMs?: number;
  /** Only while `owner` holds the lease; `release` also gives it up. */
  lease?: { require: string } | { release: string };
  /** Journal entries appended in the same request as the rest of the change (a transaction). */
  journal?: ChangeEntry[];
}

/** One page of the change journal, newest first. */
export interface ChangePage {
  entries: ChangeEntry[];
  /** Opaque: passed back to read the next (older) page; absent on the last page. */
  nextCursor?: string;
}

/** Reads the change journal (`GET /client/changes`). */
export interface ChangeJournalReader {
  /** Throws `invalid-cursor` (400) for a cursor it did not issue. */
  list(query: { limit: number; cursor?: string | undefined }, signal?: AbortSignal): Promise<ChangePage>;
}

/** The shared state of the Affix client: one item, read and written whole (`dynamodb-state.ts`). */
export interface StateStore {
  /** The validated state now (a part that does not validate reads as absent). */
  load(nowMs: number, signal?: AbortSignal): Promise<ParsedState>;
  /** Takes the lease unless a live one exists, and returns the state with it; else who holds it. */
  acquire(
    owner: string,
    expiresAtMs: number,
    nowMs: number,
    signal?: AbortSignal,
  ): Promise<{ acquired: true; parsed: ParsedState } | { acquired: false; holder: StateLease | undefined }>;
  /**
   * Applies `change` in one write (repeated without its optional parts when their conditions fail).
   * `observed`: whether the digests were recorded. Throws `LeaseLostError` when `lease` no longer holds
   * (after appending the change's `journal` entries alone: the change they describe was accepted).
   */
  apply(change: StateChange, nowMs: number): Promise<{ observed: boolean }>;
}

/** The rotation job's secret parameter in SSM (`ssm-secret-store.ts`). */
export interface SecretStore {
  /** The secret parameter's current value and date, and its earlier values. */
  read(): Promise<SsmSecretState>;
  /** Writes `value` as a new SecureString version (Overwrite). */
  put(value: string): Promise<void>;
}

/** What a rotation run needs: the use cases' ports and its own. */
export interface RotationPorts extends Ports {
  secretStore: SecretStore;
  /** Throws unless Affix accepts `secret` (an authenticated GET with it). */
  verifySecret(secret: string, context: CallContext): Promise<void>;
  generateSecret(): string;
  now(): Date;
}
