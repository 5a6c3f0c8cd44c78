/** The outside-change rules: keyed per-field digests, and how a read compares with the last-seen item. */
import { describe, expect, it } from 'vitest';
import { toUpdate } from '../../../../../functions/core/domain/client-state.ts';
import { parseEtagKey } from '../../../../../functions/core/domain/etag-key.ts';
import type { AffixClientUpdate } from '../../../../../functions/core/domain/schemas.ts';
import type { SeenState } from '../../../../../functions/core/domain/state-item.ts';
import {
  differingFields,
  type FieldDigests,
  fieldDigests,
  judgeRead,
  WATCHED_FIELDS,
} from '../../../../../functions/core/domain/state-item.ts';
import { ETAG_KEY, parsedClient, SECRET_A } from '../../../../support/affix-fixtures.ts';

const base = toUpdate(parsedClient());
const digests = (update: AffixClientUpdate = base) => fieldDigests(update, ETAG_KEY);

describe('fieldDigests', () => {
  it('gives each watched field a 22-character base64url digest that holds no value', () => {
    const result = digests();
    expect(Object.keys(result)).toEqual([...WATCHED_FIELDS]);
    for (const value of Object.values(result)) expect(value).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(JSON.stringify(result)).not.toContain(SECRET_A);
    expect(JSON.stringify(result)).not.toContain(base.name);
  });

  it('is the same for the same client and key, and changes only the changed field', () => {
    expect(digests({ ...base })).toEqual(digests());
    const renamed = digests({ ...base, name: 'Other' });
    expect(differingFields(digests(), renamed)).toEqual(['name']);
    const rotated = digests({ ...base, client_secret: [...base.client_secret, 'secret-new-xxxx-0000'] });
    expect(differingFields(digests(), rotated)).toEqual(['client_secret']);
    const extra = digests({ ...base, extra: { logo_url: 'https://x.example/logo.png' } });
    expect(differingFields(digests(), extra)).toEqual(['unmodelled']);
  });

  it('treats a missing webhook_uri as null', () => {
    const { webhook_uri: _, ...without } = base;
    expect(digests(without as AffixClientUpdate)).toEqual(digests({ ...base, webhook_uri: null }));
  });

  it('depends on the key: another ETag key gives other digests', () => {
    const other = parseEtagKey(Buffer.alloc(32, 9).toString('base64'));
    expect(differingFields(digests(), fieldDigests(base, other))).toEqual([...WATCHED_FIELDS]);
  });

  it('keeps equal values of different fields apart', () => {
    const same = { ...base, name: 'https://x.example/', webhook_uri: 'https://x.example/' };
    const result = digests(same);
    expect(result.name).not.toBe(result.webhook_uri);
  });

  it('gives the same digests when it reuses those of a client digested with the same key', () => {
    const clients = [
      base,
      { ...base, name: 'Other' },
      { ...base, webhook_uri: null },
      { ...base, redirect_uris: [...base.redirect_uris].reverse(), extra: { a: 1 } },
      { ...base, client_secret: [SECRET_A, 'secret-new-xxxx-0000'] },
    ];
    for (const known of clients) {
      const digested = { client: known, etagKey: ETAG_KEY, digests: digests(known) };
      for (const client of clients) expect(fieldDigests(client, ETAG_KEY, digested)).toEqual(digests(client));
    }
  });

  it('reuses a known digest only for an equal value under the very same key', () => {
    const marked = { name: 'n'.repeat(22) } as FieldDigests;
    const known = { client: base, etagKey: ETAG_KEY, digests: { ...digests(), ...marked } };
    // The same value under the same key: taken from `known` (here a marked one, to show it was reused).
    expect(fieldDigests(base, ETAG_KEY, known).name).toBe(marked.name);
    expect(fieldDigests({ ...base, name: 'Other' }, ETAG_KEY, known).name).toBe(
      digests({ ...base, name: 'Other' }).name,
    );
    // Another key object (a refreshed ETag key): nothing is reused.
    const other = parseEtagKey(Buffer.alloc(32, 9).toString('base64'));
    expect(fieldDigests(base, other, known)).toEqual(fieldDigests(base, other));
  });
});

describe('judgeRead', () => {
  const a = digests();
  const b = digests({ ...base, webhook_uri: 'https://b.example/hook' });
  const c = digests({ ...base, name: 'Changed elsewhere' });
  const seen = (extra: Partial<SeenState> = {}): SeenState => ({ fields: a, version: 3, ...extra });

  it('is first without an item, same for what was last seen', () => {
    expect(judgeRead(undefined, a, 0)).toEqual({ kind: 'first' });
    expect(judgeRead(seen(), a, 0)).toEqual({ kind: 'same' });
  });

  it('recognises the state a write in progress is sending as ours', () => {
    expect(judgeRead(seen({ pending: b }), b, 0)).toEqual({ kind: 'pending-write' });
  });

  it('recognises the replaced state, read by a request that began before the write was recorded', () => {
    const written = seen({ fields: b, replaced: a, changedAtMs: 1_000 });
    expect(judgeRead(written, a, 999)).toEqual({ kind: 'stale-read' });
    expect(judgeRead(written, a, 1_000)).toEqual({ kind: 'stale-read' });
    // Begun after the write was recorded: the old state is back, and no write of ours explains it.
    expect(judgeRead(written, a, 1_001)).toEqual({ kind: 'outside', fields: ['webhook_uri'] });
  });

  it('reports anything else as an outside change, naming the fields that differ from the last seen', () => {
    expect(judgeRead(seen({ pending: b }), c, 0)).toEqual({ kind: 'outside', fields: ['name'] });
    const both: FieldDigests = { ...b, name: c.name };
    expect(judgeRead(seen(), both, 0)).toEqual({ kind: 'outside', fields: ['name', 'webhook_uri'] });
  });
});
