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
