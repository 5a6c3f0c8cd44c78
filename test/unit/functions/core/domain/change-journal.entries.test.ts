/**
 * The journal's pure rules: which fields an entry names, that its values are the public ones (masked
 * secrets), its sort key and its expiry.
 */
import { describe, expect, it } from 'vitest';
import {
  changeEntry,
  entryAtMs,
  journalExpirySeconds,
  journalSortKey,
  OUTSIDE_ACTOR,
  ROTATION_ACTOR,
} from '../../../../../functions/core/domain/change-journal.ts';
import { toPublicClient } from '../../../../../functions/core/domain/client-state.ts';
import type { PublicClient } from '../../../../../functions/core/domain/schemas.ts';

const SECRET = 'secret-JJJJ-jjjj-1111-journal';
const NEW_SECRET = 'secret-KKKK-kkkk-2222-rotated';
const AT_MS = Date.UTC(2026, 11, 6, 20, 0, 0, 123);
const ARN = 'arn:aws:sts::123456789012:assumed-role/deployer/session';

const before: PublicClient = toPublicClient({
  client_id: 'client-1',
  client_secret: [SECRET],
  name: 'Before',
  redirect_uris: ['https://app.example.com/callback'],
  webhook_uri: null,
});

function facts(after: PublicClient, fields: readonly string[]) {
  return {
    atMs: AT_MS,
    author: { actor: ARN, requestId: 'request-1' },
    fields,
    before,
    after,
    etagBefore: '"before-etag"',
    etagAfter: '"after-etag"',
  };
}

describe('changeEntry', () => {
  it('names only the fields that changed, in a fixed order, with both values and both ETags', () => {
    const after = { ...before, name: 'After', webhook_uri: 'https://hooks.example.com/new' };
    expect(changeEntry(facts(after, ['webhook_uri', 'name']))).toEqual({
      at: '2026-12-06T20:00:00.123Z',
      actor: ARN,
      request_id: 'request-1',
      fields: [
        { field: 'name', before: 'Before', after: 'After' },
        { field: 'webhook_uri', before: null, after: 'https://hooks.example.com/new' },
      ],
      etag_before: '"before-etag"',
      etag_after: '"after-etag"',
    });
  });

  it('shows secrets as GET /client does: masked tails, never a value', () => {
    const after = toPublicClient({ ...before, client_secret: [SECRET, NEW_SECRET] });
    const entry = changeEntry(facts(after, ['client_secret']));
    expect(entry?.fields).toEqual([
      { field: 'client_secret', before: ['****rnal'], after: ['****rnal', '****ated'] },
    ]);
    expect(JSON.stringify(entry)).not.toContain(SECRET);
    expect(JSON.stringify(entry)).not.toContain(NEW_SECRET);
  });

  it('appends nothing when no journaled field changed (unmodelled fields are not journaled)', () => {
    expect(changeEntry(facts(before, []))).toBeUndefined();
    expect(changeEntry(facts(before, ['unmodelled']))).toBeUndefined();
  });

  it('takes any actor: a caller ARN, the rotation or an outside change, and a null ETag before', () => {
    for (const actor of [ARN, ROTATION_ACTOR, OUTSIDE_ACTOR]) {
      const entry = changeEntry({
        ...facts({ ...before, name: 'x' }, ['name']),
        author: { actor, requestId: 'r' },
      });
      expect(entry?.actor).toBe(actor);
    }
    expect(
      changeEntry({ ...facts({ ...before, name: 'x' }, ['name']), etagBefore: null })?.etag_before,
    ).toBeNull();
  });

  it('copies the lists, so a later change of a client does not change a built entry', () => {
    const after = { ...before, redirect_uris: ['https://app.example.com/other'] };
    const entry = changeEntry(facts(after, ['redirect_uris']));
    after.redirect_uris.push('https://late.example.com');
    expect(entry?.fields).toEqual([
      {
        field: 'redirect_uris',
        before: ['https://app.example.com/callback'],
        after: ['https://app.example.com/other'],
      },
    ]);
  });
});

describe('the journal item keys', () => {
  it('sorts by time, then by request, and the entry time round-trips from `at`', () => {
    const entry = changeEntry(facts({ ...before, name: 'x' }, ['name']));
    expect(entry === undefined ? undefined : entryAtMs(entry)).toBe(AT_MS);
    const keys = [journalSortKey(AT_MS + 1, 'a'), journalSortKey(AT_MS, 'b'), journalSortKey(999, 'z')];
    expect([...keys].sort()).toEqual([keys[2], keys[1], keys[0]]);
  });

  it('expires retentionDays after the entry, in whole epoch seconds (rounded down)', () => {
    expect(journalExpirySeconds(AT_MS, 400)).toBe(Math.floor(AT_MS / 1_000) + 400 * 86_400);
    expect(journalExpirySeconds(1_999, 1)).toBe(1 + 86_400);
    expect(journalExpirySeconds(0, 3_650)).toBe(3_650 * 86_400);
  });
});
