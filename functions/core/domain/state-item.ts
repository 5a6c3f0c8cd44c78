/**
 * The one shared state item per Affix client, as the domain sees it, and its pure rules: the write
 * lease (how long it lasts, how long a writer waits, what a refused writer is told), the masked view
 * `GET /client` answers, the back-off after an Affix 429, the outside-change digests and how a read is
 * judged against them, and the Affix requests spent per 30-second bucket (the shared rate budget).
 *
 * What is read from the table is validated here part by part (valibot): a part that does not validate
 * is treated as absent and named in {@link ParsedState.refused}, never served. A view that holds an
 * unmasked secret, a back-off beyond Affix's window or a negative count is refused that way.
 *
 * @example
 * const { state, refused } = parseState(item, Date.now());
 * readShare(state.spent, Date.now(), DEFAULT_AFFIX_LIMIT); // { allowed: true, ... }
 * judgeRead(state.seen, fieldDigests(toUpdate(client), etagKey), startedAtMs); // { kind: 'same' }
 */
import { createHmac } from 'node:crypto';
import * as v from 'valibot';
import { MASK } from './client-state.ts';
import type { EtagKey } from './etag-key.ts';
import { ProblemError } from './problems.ts';
import { type AffixClientUpdate, canonicalJson, type PublicClient } from './schemas.ts';

/** Affix's documented limit per client id: 40 requests in any 5 minutes. */
export const DEFAULT_AFFIX_LIMIT = 40;
export const AFFIX_WINDOW_MS = 300_000;
/** Counts are kept per bucket of this length; a bucket counts while any part of it is in the window. */
export const BUCKET_MS = 30_000;
/** No `Retry-After` we answer or record is longer than Affix's window. */
export const MAX_RETRY_AFTER_SECONDS = AFFIX_WINDOW_MS / 1_000;
/** Clocks of containers differ a little; an instant "from the future" by more than this is not trusted. */
export const MAX_CLOCK_SKEW_MS = 2_000;

/** Affix requests one write costs: the GET under the lease and the POST (a no-op or a 412 costs 1). */
export const WRITE_COST = 2;
/**
 * Affix requests of the longest rotation run (grace 0): four observing GETs, two writes (add, retire)
 * and the GET that verifies the new secret: 4 + 2 x 2 + 1 = 9, rounded up to 10 for a 401 refresh.
 */
export const ROTATION_COST = 10;
/** Writes kept for writers in any window, beside one rotation (see docs/rate-budget.md). */
export const RESERVED_WRITES = 5;
/** What reads (GET misses, no-cache GETs, webhook-verification refreshes) may never spend. */
export const WRITER_RESERVE = RESERVED_WRITES * WRITE_COST + ROTATION_COST;

/** The masked view `GET /client` answers, and when the Affix exchange that produced it began. */
export interface StateView {
  client: PublicClient;
  etag: string;
  readAtMs: number;
}

/** What the proxy last wrote or saw at Affix, per field as keyed digests (see {@link fieldDigests}). */
export interface SeenState {
  fields: FieldDigests;
  version: number;
  pending?: FieldDigests | undefined;
  replaced?: FieldDigests | undefined;
  changedAtMs?: number | undefined;
}

export interface StateLease {
  owner: string;
  expiresAtMs: number;
}

/** The validated state: every part optional, since a part that did not validate reads as absent. */
export interface SharedState {
  lease?: StateLease | undefined;
  view?: StateView | undefined;
  notBeforeMs?: number | undefined;
  seen?: SeenState | undefined;
  /** Affix requests spent per bucket (bucket number = floor(epoch ms / BUCKET_MS)). */
  spent: ReadonlyMap<number, number>;
}

/** The lease's owner condition failed: this writer no longer holds the lease. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export const EMPTY_STATE: SharedState = { spent: new Map() };

/** The top-level attribute of a bucket's count. */
export const SPENT_PREFIX = 'spent_';
export const spentAttribute = (bucket: number): string => `${SPENT_PREFIX}${bucket}`;
export const bucketOf = (atMs: number): number => Math.floor(atMs / BUCKET_MS);

// ---------------------------------------------------------------------------------------------------
// Outside changes: a change to the client that no write through the proxy explains (Affix's
// dashboard, Affix support, a leaked secret) is a security event, since `webhook_uri` decides where
// employee data goes. Every Affix read is compared with the last state the proxy wrote or saw, kept
// per field as an HMAC digest (keyed with a key derived from the ETag key), so the table holds no
// value and no secret.
//
// A write through the proxy is never reported: inside the write lease it records the state it is about
// to send (pending) before the POST, and the state Affix returned (plus the one it replaced) after.
// Each of those records moves the item's version, and a read records (and reports) only while the
// version it loaded holds: a read is judged only against a state item no write touched while it read.
// `shared-state.ts` applies these rules to every Affix exchange.
// ---------------------------------------------------------------------------------------------------

/** The fields compared; `unmodelled` stands for every field the proxy does not model, together. */
export const WATCHED_FIELDS = [
  'name',
  'webhook_uri',
  'redirect_uris',
  'client_secret',
  'unmodelled',
] as const;
export type WatchedField = (typeof WATCHED_FIELDS)[number];
export type FieldDigests = Record<WatchedField, string>;

const DIGEST_CONTEXT = 'affix-webhook-config last-seen v1';

/** Derived once per ETag key (a `KeyObject` never changes): a PATCH digests three clients with it. */
const digestKeys = new WeakMap<EtagKey, Buffer>();

/** A key of its own for the digests, derived from the ETag key (digests and ETags never share a MAC). */
function digestKey(etagKey: EtagKey): Buffer {
  let key = digestKeys.get(etagKey);
  if (key === undefined) {
    key = createHmac('sha256', etagKey).update(DIGEST_CONTEXT).digest();
    digestKeys.set(etagKey, key);
  }
  return key;
}

/** Per field: an HMAC-SHA256 of the field's name and canonical value (base64url, 128 bits). */
function fieldDigest(key: Buffer, field: WatchedField, value: unknown): string {
  return macOf(key, canonicalText(field, value));
}

function canonicalText(field: WatchedField, value: unknown): string {
  return canonicalJson([field, value]);
}

function macOf(key: Buffer, canonical: string): string {
  return createHmac('sha256', key).update(canonical).digest('base64url').slice(0, 22);
}

/** The digest `fieldDigests` records for a secret list: equal digests, equal lists (in order). */
export function secretListDigest(secrets: readonly string[], etagKey: EtagKey): string {
  return fieldDigest(digestKey(etagKey), 'client_secret', secrets);
}

function watchedValues(client: AffixClientUpdate): Record<WatchedField, unknown> {
  return {
    name: client.name,
    webhook_uri: client.webhook_uri ?? null,
    redirect_uris: client.redirect_uris,
    client_secret: client.client_secret,
    unmodelled: client.extra,
  };
}

/** A client and its digests, made with `etagKey`. */
export interface DigestedClient {
  client: AffixClientUpdate;
  etagKey: EtagKey;
  digests: FieldDigests;
}

/**
 * The digests of `client`. A field whose canonical value equals that of `known` (digested with the
 * same key) takes its digest from there, since the same key and text give the same MAC: a write
 * digests the client it read, the state it sends and Affix's answer, which mostly agree.
 */
export function fieldDigests(
  client: AffixClientUpdate,
  etagKey: EtagKey,
  known?: DigestedClient,
): FieldDigests {
  const key = digestKey(etagKey);
  const values = watchedValues(client);
  const reusable = known !== undefined && known.etagKey === etagKey ? known : undefined;
  const knownValues = reusable === undefined ? undefined : watchedValues(reusable.client);
  const digests = {} as FieldDigests;
  for (const field of WATCHED_FIELDS) {
    const text = canonicalText(field, values[field]);
    digests[field] =
      reusable !== undefined && knownValues !== undefined && canonicalText(field, knownValues[field]) === text
        ? reusable.digests[field]
        : macOf(key, text);
  }
  return digests;
}

/** The fields whose digests differ (a field missing on one side differs). */
export function differingFields(a: FieldDigests, b: FieldDigests): WatchedField[] {
  return WATCHED_FIELDS.filter((field) => a[field] !== b[field]);
}

export type ReadVerdict =
  /** No item yet: record, report nothing. */
  | { kind: 'first' }
  /** What the proxy last wrote or saw. */
  | { kind: 'same' }
  /** The state a write in progress is sending: ours. */
  | { kind: 'pending-write' }
  /** The state the last write replaced, read by a request that started before that write was recorded. */
  | { kind: 'stale-read' }
  | { kind: 'outside'; fields: WatchedField[] };

/** How a read that began at `readStartedAtMs` and found `observed` compares with the last-seen item. */
export function judgeRead(
  seen: SeenState | undefined,
  observed: FieldDigests,
  readStartedAtMs: number,
): ReadVerdict {
  if (seen === undefined) return { kind: 'first' };
  const fields = differingFields(seen.fields, observed);
  if (fields.length === 0) return { kind: 'same' };
  if (seen.pending !== undefined && differingFields(seen.pending, observed).length === 0) {
    return { kind: 'pending-write' };
  }
  if (
    seen.replaced !== undefined &&
    seen.changedAtMs !== undefined &&
    readStartedAtMs <= seen.changedAtMs &&
    differingFields(seen.replaced, observed).length === 0
  ) {
    return { kind: 'stale-read' };
  }
  return { kind: 'outside', fields };
}

const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100_000));
const epochMs = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const digest = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/));
const DigestsSchema = v.strictObject(
  Object.fromEntries(WATCHED_FIELDS.map((field) => [field, digest])) as Record<
    (typeof WATCHED_FIELDS)[number],
    typeof digest
  >,
);
/** A masked secret only: the mask, maybe followed by the last four characters. */
const maskedSecret = v.pipe(v.string(), v.regex(new RegExp(`^\\*{${MASK.length}}.{0,4}$`, 'su')));
const ViewSchema = v.strictObject({
  client: v.strictObject({
    client_id: v.pipe(v.string(), v.maxLength(256)),
    name: v.pipe(v.string(), v.maxLength(1_024)),
    redirect_uris: v.pipe(v.array(v.pipe(v.string(), v.maxLength(4_096))), v.maxLength(100)),
    webhook_uri: v.nullable(v.pipe(v.string(), v.maxLength(4_096))),
    client_secret: v.pipe(v.array(maskedSecret), v.maxLength(100)),
  }),
  etag: v.pipe(v.string(), v.regex(/^"[A-Za-z0-9_-]{1,128}"$/)),
  readAtMs: epochMs,
});
const LeaseSchema = v.object({
  owner: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  expiresAtMs: epochMs,
});
const SeenSchema = v.object({
  fields: DigestsSchema,
  version: count,
  pending: v.optional(DigestsSchema),
  replaced: v.optional(DigestsSchema),
  changedAtMs: v.optional(epochMs),
});

export type StatePart = 'lease' | 'view' | 'back-off' | 'seen' | 'spent';

export interface ParsedState {
  state: SharedState;
  /** Parts present in the item that did not validate (and so read as absent). */
  refused: StatePart[];
}

/**
 * The item (already unmarshalled) as validated state. `nowMs` bounds the back-off: a "not before"
 * further away than Affix's window (plus skew) is refused, so one absurd value cannot block for a day.
 */
export function parseState(item: Record<string, unknown> | undefined, nowMs: number): ParsedState {
  if (item === undefined) return { state: EMPTY_STATE, refused: [] };
  const refused: StatePart[] = [];
  const part = <T>(name: StatePart, present: boolean, parse: () => T | undefined): T | undefined => {
    if (!present) return undefined;
    const value = parse();
    if (value === undefined) refused.push(name);
    return value;
  };
  const parsed = <S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> | undefined => {
    const result = v.safeParse(schema, value);
    return result.success ? result.output : undefined;
  };

  const lease = part('lease', item.owner !== undefined || item.expiresAtMs !== undefined, () =>
    parsed(LeaseSchema, { owner: item.owner, expiresAtMs: item.expiresAtMs }),
  );
  const view = part('view', item.view !== undefined, () => parsed(ViewSchema, item.view));
  const notBeforeMs = part('back-off', item.notBeforeMs !== undefined, () => {
    const value = parsed(epochMs, item.notBeforeMs);
    return value !== undefined && value <= nowMs + AFFIX_WINDOW_MS + MAX_CLOCK_SKEW_MS ? value : undefined;
  });
  const seen = part('seen', item.fields !== undefined, () =>
    parsed(SeenSchema, {
      fields: item.fields,
      version: item.version ?? 0,
      pending: item.pending,
      replaced: item.replaced,
      changedAtMs: item.changedAtMs,
    }),
  );
  const spent = new Map<number, number>();
  let badSpent = false;
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith(SPENT_PREFIX)) continue;
    const bucket = Number(name.slice(SPENT_PREFIX.length));
    const counted = parsed(count, value);
    if (!Number.isSafeInteger(bucket) || counted === undefined) badSpent = true;
    else spent.set(bucket, counted);
  }
  if (badSpent) refused.push('spent');
  return { state: { lease, view, notBeforeMs, seen, spent }, refused };
}

/** Whether a bucket still counts at `nowMs`: any part of it lies in the last window. */
function inWindow(bucket: number, nowMs: number): boolean {
  return (bucket + 1) * BUCKET_MS > nowMs - AFFIX_WINDOW_MS;
}

/** Affix requests spent in the window ending now (counted generously: whole buckets). */
export function spentInWindow(spent: ReadonlyMap<number, number>, nowMs: number): number {
  let total = 0;
  for (const [bucket, counted] of spent) if (inWindow(bucket, nowMs)) total += counted;
  return total;
}

/** Buckets that no longer count: a write removes them. */
export function expiredBuckets(spent: ReadonlyMap<number, number>, nowMs: number): number[] {
  return [...spent.keys()].filter((bucket) => !inWindow(bucket, nowMs));
}

export type ReadShare = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Whether a read may spend one more Affix request now: only what writers and rotation do not keep.
 * When not, `retryAfterSeconds` says when enough buckets will have left the window (at most 300 s).
 */
export function readShare(
  spent: ReadonlyMap<number, number>,
  nowMs: number,
  limit: number = DEFAULT_AFFIX_LIMIT,
): ReadShare {
  const share = limit - WRITER_RESERVE;
  if (spentInWindow(spent, nowMs) + 1 <= share) return { allowed: true };
  const buckets = [...spent.entries()]
    .filter(([bucket]) => inWindow(bucket, nowMs))
    .sort(([a], [b]) => a - b);
  let total = spentInWindow(spent, nowMs);
  for (const [bucket, counted] of buckets) {
    total -= counted;
    if (total + 1 <= share) {
      // The instant this bucket stops counting.
      const leavesAtMs = (bucket + 1) * BUCKET_MS + AFFIX_WINDOW_MS;
      return { allowed: false, retryAfterSeconds: retryAfterUntil(leavesAtMs, nowMs) };
    }
  }
  return { allowed: false, retryAfterSeconds: MAX_RETRY_AFTER_SECONDS };
}

/** Whole seconds until `atMs` (at least 1, at most Affix's window). */
export function retryAfterUntil(atMs: number, nowMs: number): number {
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil((atMs - nowMs) / 1_000)));
}

/** A 429's `Retry-After`, capped at Affix's window. */
export function cappedRetryAfter(seconds: number): number {
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, seconds));
}

/** Whole seconds left of the back-off (0 when none or over). */
export function backoffRemainingSeconds(notBeforeMs: number | undefined, nowMs: number): number {
  if (notBeforeMs === undefined) return 0;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil((notBeforeMs - nowMs) / 1_000)));
}

// ---------------------------------------------------------------------------------------------------
// The write lease's rules. Affix has no conditional write, and a Lambda container runs one invocation
// at a time, so two concurrent writes always run in two containers: only a lock outside the
// containers (the lease on this item, `WriteLock` in `ports.ts`) makes one write's read-check-write
// sequence exclusive.
// ---------------------------------------------------------------------------------------------------

/** Added to the Lambda's remaining time: covers clock skew between containers and the release call. */
export const LEASE_MARGIN_MS = 2_000;
/** Default `WRITE_LOCK_LEASE_SECONDS`: longer than API Gateway's 29 s, so longer than any invocation. */
export const DEFAULT_LEASE_SECONDS = 30;

/**
 * How long a lease taken now lasts: at least the configured lease, and always past the moment Lambda
 * would kill this invocation, so a container that is killed mid-write cannot leave a second writer
 * running beside a live one (the killed one is gone before its lease ends).
 */
export function leaseDurationMs(
  configuredLeaseMs: number,
  invocationRemainingMs: number | undefined,
): number {
  if (invocationRemainingMs === undefined || !Number.isFinite(invocationRemainingMs))
    return configuredLeaseMs;
  return Math.max(configuredLeaseMs, Math.ceil(invocationRemainingMs) + LEASE_MARGIN_MS);
}

/**
 * The part of a request's budget kept for the GET and POST that follow the lease: half of it. A
 * writer stops waiting for the lease once less than this is left.
 */
export function workReserveMs(deadline: { readonly budgetMs: number }): number {
  return Math.ceil(deadline.budgetMs / 2);
}

const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 200;

/**
 * The pause before the next try: exponential (10, 20, 40, ... ms, at most 200), jittered over its
 * upper half so racing writers spread out, and never much past the holder's expiry when that is sooner.
 */
export function leaseBackoffMs(attempt: number, holderRemainingMs: number | undefined, random: () => number) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 10));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  const untilExpiry = holderRemainingMs === undefined ? Number.POSITIVE_INFINITY : holderRemainingMs + 1;
  return Math.max(1, Math.round(Math.min(jittered, untilExpiry)));
}

/** `Retry-After` for a refused writer: the holder's remaining lease in whole seconds, at least 1. */
export function contentionRetryAfterSeconds(holderRemainingMs: number | undefined, leaseMs: number): number {
  const remaining = holderRemainingMs ?? leaseMs;
  return Math.max(1, Math.ceil(remaining / 1_000));
}

export function writeContention(retryAfterSeconds: number, waitedMs: number): ProblemError {
  return new ProblemError(
    'write-contention',
    'Another write to the client is in progress and did not finish in time; nothing was sent to Affix. Retry after the Retry-After delay.',
    { retryAfterSeconds, cause: { reason: 'lease-held', waitedMs } },
  );
}

export function writeLockUnavailable(cause: Record<string, unknown>): ProblemError {
  return new ProblemError(
    'write-lock-unavailable',
    'The write lock could not be taken; nothing was sent to Affix. Retry shortly.',
    { retryAfterSeconds: 1, cause },
  );
}

/**
 * The invocation was given up (middy's early-timeout backstop) while this writer waited: it stops
 * waiting. The caller has had the backstop's 504 already; this only ends the work.
 */
export function writeAbandoned(waitedMs: number): ProblemError {
  return new ProblemError(
    'upstream-timeout',
    'The request ran out of time while waiting for the write lock; nothing was sent to Affix.',
    { cause: { reason: 'aborted', waitedMs } },
  );
}
