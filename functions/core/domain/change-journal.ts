/**
 * The change journal's shape: one entry per accepted change of the Affix client, whoever made it (a
 * caller through the proxy, the rotation job, or someone at Affix, seen by the outside-change watch).
 * Entries live in the state table's partition as their own items (sort key {@link journalSortKey},
 * so a query in reverse order lists the newest first) and expire by the table's TTL.
 *
 * Secrets appear only as `GET /client` shows them (masked tails); ETags are keyed digests, never the key.
 *
 * @example
 * journalSortKey(1_796_000_000_000, 'req-1'); // 'change#001796000000000#req-1'
 */
import * as v from 'valibot';
import type { PublicClient } from './schemas.ts';

/** The sort key prefix of every journal item (the state item's sort key is `state`). */
export const JOURNAL_SORT_PREFIX = 'change#';

/** Who made a change that no caller of ours made. */
export const ROTATION_ACTOR = 'rotation';
export const OUTSIDE_ACTOR = 'outside';

const MaskedSecrets = v.array(v.string());

/** One field's change; values as `GET /client` shows them (secrets masked). */
export const FieldChangeSchema = v.variant('field', [
  v.object({ field: v.literal('name'), before: v.string(), after: v.string() }),
  v.object({
    field: v.literal('webhook_uri'),
    before: v.nullable(v.string()),
    after: v.nullable(v.string()),
  }),
  v.object({ field: v.literal('redirect_uris'), before: v.array(v.string()), after: v.array(v.string()) }),
  v.object({ field: v.literal('client_secret'), before: MaskedSecrets, after: MaskedSecrets }),
]);
export type FieldChange = v.InferOutput<typeof FieldChangeSchema>;
export type JournaledField = FieldChange['field'];

/** One journal entry as `GET /client/changes` answers it. */
export const ChangeEntrySchema = v.object({
  /** When the change was accepted (or, for an outside change, first seen), ISO 8601. */
  at: v.string(),
  /** The caller's ARN, {@link ROTATION_ACTOR} or {@link OUTSIDE_ACTOR}. */
  actor: v.string(),
  /** The request (or rotation run) that made or saw the change. */
  request_id: v.string(),
  fields: v.array(FieldChangeSchema),
  /** The ETag before and after (outside: the last one we had seen, and the fresh one). */
  etag_before: v.nullable(v.string()),
  etag_after: v.string(),
});
export type ChangeEntry = v.InferOutput<typeof ChangeEntrySchema>;

/** Sorts by time, then by request: zero-padded epoch ms keep the string order the time order. */
export function journalSortKey(atMs: number, requestId: string): string {
  return `${JOURNAL_SORT_PREFIX}${String(Math.max(0, Math.trunc(atMs))).padStart(15, '0')}#${requestId}`;
}

/** Default `JOURNAL_RETENTION_DAYS` (the stage file's `journalRetentionDays`). */
export const DEFAULT_JOURNAL_RETENTION_DAYS = 400;

/** The fields an entry may name, in the order it lists them. */
export const JOURNALED_FIELDS: readonly JournaledField[] = [
  'name',
  'webhook_uri',
  'redirect_uris',
  'client_secret',
];

/** Who a call changes the client for: the caller's ARN (or a fixed actor) and the request id it is logged with. */
export interface ChangeAuthor {
  actor: string;
  requestId: string;
}

/** What an accepted change is known by; the clients as `GET /client` shows them (secrets masked). */
export interface ChangeFacts {
  atMs: number;
  author: ChangeAuthor;
  /** The fields that changed (others, such as unmodelled ones, are left out). */
  fields: readonly string[];
  before: PublicClient;
  after: PublicClient;
  etagBefore: string | null;
  etagAfter: string;
}

function fieldChange(field: JournaledField, before: PublicClient, after: PublicClient): FieldChange {
  switch (field) {
    case 'name':
      return { field, before: before.name, after: after.name };
    case 'webhook_uri':
      return { field, before: before.webhook_uri, after: after.webhook_uri };
    case 'redirect_uris':
      return { field, before: [...before.redirect_uris], after: [...after.redirect_uris] };
    case 'client_secret':
      return { field, before: [...before.client_secret], after: [...after.client_secret] };
  }
}

/**
 * The journal entry of an accepted change, validated; `undefined` when none of the journaled fields
 * changed (nothing to append). Values come only from the public clients, so secrets are masked tails.
 */
export function changeEntry(facts: ChangeFacts): ChangeEntry | undefined {
  const fields = JOURNALED_FIELDS.filter((field) => facts.fields.includes(field));
  if (fields.length === 0) return undefined;
  return v.parse(ChangeEntrySchema, {
    at: new Date(facts.atMs).toISOString(),
    actor: facts.author.actor,
    request_id: facts.author.requestId,
    fields: fields.map((field) => fieldChange(field, facts.before, facts.after)),
    etag_before: facts.etagBefore,
    etag_after: facts.etagAfter,
  });
}

/** The instant of an entry (epoch ms), from its `at`. */
export function entryAtMs(entry: ChangeEntry): number {
  return Date.parse(entry.at);
}

/** When an entry made at `atMs` expires: the table's TTL attribute, in epoch seconds. */
export function journalExpirySeconds(atMs: number, retentionDays: number): number {
  return Math.floor(atMs / 1_000) + retentionDays * 86_400;
}
