/**
 * The one shared state item per Affix client, as the domain sees it, and its pure rules: the write
 * lease, the masked view `GET /client` answers, the back-off after an Affix 429, the outside-change
 * digests, and the Affix requests spent per 30-second bucket (the shared rate budget).
 *
 * What is read from the table is validated here part by part (valibot): a part that does not validate
 * is treated as absent and named in {@link ParsedState.refused}, never served. A view that holds an
 * unmasked secret, a back-off beyond Affix's window or a negative count is refused that way.
 *
 * @example
 * const { state, refused } = parseState(item, Date.now());
 * readShare(state.spent, Date.now(), DEFAULT_AFFIX_LIMIT); // { allowed: true, ... }
 */
import * as v from 'valibot';
import { MASK } from './masking.ts';
import { type FieldDigests, WATCHED_FIELDS } from './outside-change.ts';
import type { PublicClient } from './schemas.ts';

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

/** What the proxy last wrote or saw at Affix, per field as keyed digests (see `outside-change.ts`). */
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
