/**
 * The listing use case: entries as the journal gives them, the cursor passed on, and an entry whose
 * `client_secret` change holds a value that is not masked left out and reported by its request id.
 */
import { describe, expect, it } from 'vitest';
import {
  createChangeListing,
  isMaskedSecret,
  secretsMasked,
} from '../../../../../functions/core/app/list-changes.ts';
import type { ChangeEntry } from '../../../../../functions/core/domain/change-journal.ts';
import { maskSecret } from '../../../../../functions/core/domain/client-state.ts';
import type { ChangeJournalReader, ChangePage } from '../../../../../functions/core/ports.ts';

const RAW = 'sandbox-secret-aaaaaaaaaaaaaaaa';

function entry(requestId: string, fields: ChangeEntry['fields']): ChangeEntry {
  return {
    at: '2026-12-06T20:00:00.000Z',
    actor: 'arn:aws:sts::000000000000:assumed-role/local-writer/local',
    request_id: requestId,
    fields,
    etag_before: '"a"',
    etag_after: '"b"',
  };
}

const journalOf = (page: ChangePage): ChangeJournalReader & { queries: unknown[] } => {
  const queries: unknown[] = [];
  return {
    queries,
    list: async (query) => {
      queries.push(query);
      return page;
    },
  };
};

describe('isMaskedSecret', () => {
  it('accepts what maskSecret makes, refuses a raw secret', () => {
    for (const secret of ['short', RAW, 'x'.repeat(256)])
      expect(isMaskedSecret(maskSecret(secret))).toBe(true);
    expect(isMaskedSecret(RAW)).toBe(false);
    expect(isMaskedSecret('****aaaaa')).toBe(false);
    expect(isMaskedSecret('***aaaa')).toBe(false);
    expect(isMaskedSecret('')).toBe(false);
  });
});

describe('createChangeListing', () => {
  it('answers the page as the API shows it, and passes the query on', async () => {
    const changes = [
      entry('r2', [{ field: 'webhook_uri', before: null, after: 'https://hooks.example.com/a' }]),
      entry('r1', [{ field: 'client_secret', before: [maskSecret(RAW)], after: ['****bbbb', '****'] }]),
    ];
    const journal = journalOf({ entries: changes, nextCursor: 'abc' });
    const list = createChangeListing({ journal, onRefused: () => expect.fail('nothing to refuse') });
    expect(await list({ limit: 2, cursor: 'xyz' })).toEqual({ changes, next_cursor: 'abc' });
    expect(journal.queries).toEqual([{ limit: 2, cursor: 'xyz' }]);
    const last = await createChangeListing({ journal: journalOf({ entries: [] }), onRefused: () => {} })({
      limit: 20,
    });
    expect(last).toEqual({ changes: [] });
    expect('next_cursor' in last).toBe(false);
  });

  it('leaves out an entry holding a secret that is not masked, and reports its request id only', async () => {
    const refused: string[] = [];
    const good = entry('r-good', [{ field: 'name', before: 'A', after: 'B' }]);
    const leakingAfter = entry('r-after', [{ field: 'client_secret', before: ['****aaaa'], after: [RAW] }]);
    const leakingBefore = entry('r-before', [
      { field: 'name', before: 'A', after: 'B' },
      { field: 'client_secret', before: [RAW], after: ['****aaaa'] },
    ]);
    const list = createChangeListing({
      journal: journalOf({ entries: [leakingAfter, good, leakingBefore], nextCursor: 'n' }),
      onRefused: (id) => refused.push(id),
    });
    const answer = await list({ limit: 3 });
    expect(answer).toEqual({ changes: [good], next_cursor: 'n' });
    expect(JSON.stringify(answer)).not.toContain(RAW);
    expect(refused).toEqual(['r-after', 'r-before']);
    expect(secretsMasked(good)).toBe(true);
  });
});
