/**
 * Outside changes: a change to the client that no write through the proxy explains (Affix's dashboard,
 * Affix support, a leaked secret) is a security event, since `webhook_uri` decides where employee data
 * goes. Every Affix read is compared with the last state the proxy wrote or saw, kept per field as an
 * HMAC digest (keyed with a key derived from the ETag key), so the table holds no value and no secret.
 *
 * A write through the proxy is never reported: inside the write lease it records the state it is about
 * to send (pending) before the POST, and the state Affix returned (plus the one it replaced) after.
 * Each of those records moves the item's version, and a read records (and reports) only while the
 * version it loaded holds: a read is judged only against a state item no write touched while it read.
 * These are the pure rules; `shared-state.ts` applies them to every Affix exchange.
 *
 * @example
 * judgeRead(seen, fieldDigests(toUpdate(client), etagKey), startedAtMs); // { kind: 'same' }
 */
import { createHmac } from 'node:crypto';
import type { EtagKey } from './etag-key.ts';
import { canonicalJson } from './exact-json.ts';
import type { AffixClientUpdate } from './schemas.ts';
import type { SeenState } from './state-item.ts';

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

/** A key of its own for the digests, derived from the ETag key (digests and ETags never share a MAC). */
function digestKey(etagKey: EtagKey): Buffer {
  return createHmac('sha256', etagKey).update(DIGEST_CONTEXT).digest();
}

/** Per field: an HMAC-SHA256 of the field's name and canonical value (base64url, 128 bits). */
function fieldDigest(key: Buffer, field: WatchedField, value: unknown): string {
  return createHmac('sha256', key)
    .update(canonicalJson([field, value]))
    .digest('base64url')
    .slice(0, 22);
}

/** The digest `fieldDigests` records for a secret list: equal digests, equal lists (in order). */
export function secretListDigest(secrets: readonly string[], etagKey: EtagKey): string {
  return fieldDigest(digestKey(etagKey), 'client_secret', secrets);
}

export function fieldDigests(client: AffixClientUpdate, etagKey: EtagKey): FieldDigests {
  const key = digestKey(etagKey);
  const values: Record<WatchedField, unknown> = {
    name: client.name,
    webhook_uri: client.webhook_uri ?? null,
    redirect_uris: client.redirect_uris,
    client_secret: client.client_secret,
    unmodelled: client.extra,
  };
  const digests = {} as FieldDigests;
  for (const field of WATCHED_FIELDS) digests[field] = fieldDigest(key, field, values[field]);
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
