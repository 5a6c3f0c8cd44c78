/**
 * The change journal's paging cursor: base64url of `{"v":1,"sk":"change#..."}`, the sort key of the
 * last entry a page held. Opaque to callers and never trusted when it comes back: it is decoded
 * strictly (canonical base64url, a JSON object of exactly these members, a sort key of the journal's
 * shape), so the only keys it can select are journal items of our own partition. The partition key
 * is never part of it.
 *
 * A cursor edited into another valid journal sort key only starts the listing elsewhere in the same
 * journal, which the caller may read whole anyway.
 *
 * @example
 * const cursor = encodeCursor('change#001796000000000#req-1');
 * decodeCursor(cursor); // { ok: true, sortKey: 'change#001796000000000#req-1' }
 */
import * as v from 'valibot';
import { JOURNAL_SORT_PREFIX } from './change-journal.ts';

/** The longest cursor accepted (and the longest one issued). */
export const MAX_CURSOR_LENGTH = 512;

const CURSOR_VERSION = 1;

/** `change#<15 digits>#<request id>`, as `journalSortKey` writes it (the cursor's length bounds it). */
const JOURNAL_SORT_KEY = new RegExp(`^${JOURNAL_SORT_PREFIX}\\d{15}#[\\s\\S]+$`);

const CursorSchema = v.strictObject({
  v: v.literal(CURSOR_VERSION),
  sk: v.pipe(v.string(), v.regex(JOURNAL_SORT_KEY)),
});

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Whether `sortKey` is a journal item's sort key that a cursor may carry. */
export function isJournalSortKey(sortKey: string): boolean {
  return JOURNAL_SORT_KEY.test(sortKey);
}

/** The cursor of a page that ended at `sortKey`. Throws for a key that is not a journal sort key. */
export function encodeCursor(sortKey: string): string {
  if (!isJournalSortKey(sortKey)) throw new Error('not a journal sort key');
  const cursor = Buffer.from(JSON.stringify({ v: CURSOR_VERSION, sk: sortKey }), 'utf8').toString(
    'base64url',
  );
  if (cursor.length > MAX_CURSOR_LENGTH) throw new Error('the cursor would be too long');
  return cursor;
}

export type DecodedCursor = { ok: true; sortKey: string } | { ok: false; reason: string };

/** The sort key a cursor carries, or why it is not one this API issued. */
export function decodeCursor(cursor: string): DecodedCursor {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) {
    return { ok: false, reason: 'it is not base64url' };
  }
  const bytes = Buffer.from(cursor, 'base64url');
  // Node's decoder skips what it cannot use: only the canonical encoding of the bytes is ours.
  if (bytes.toString('base64url') !== cursor) return { ok: false, reason: 'it is not canonical base64url' };
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let json: unknown;
  try {
    json = JSON.parse(text.decode(bytes));
  } catch {
    return { ok: false, reason: 'it does not hold JSON' };
  }
  const parsed = v.safeParse(CursorSchema, json);
  if (!parsed.success) return { ok: false, reason: 'it does not point into the change journal' };
  return { ok: true, sortKey: parsed.output.sk };
}
