/**
 * The client's response schemas (clients/schemas.ts) against the handler's types and builders: the
 * inferred types equal `PublicClient` and `ProblemDocument` (checked by `tsc`, which type-checks the
 * tests), and the schemas accept what `toPublicClient` and `problemDocument` produce. The client's
 * parameters are the handler's request types.
 */
import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ClientConfigClient } from '../../../clients/index.ts';
import {
  ChangeEntrySchema,
  type ChangePageSchema,
  ProblemDocumentSchema,
  PublicClientSchema,
} from '../../../clients/schemas.ts';
import type { ChangesAnswer } from '../../../functions/core/app/list-changes.ts';
import {
  type ChangeEntry,
  ChangeEntrySchema as HandlerChangeEntrySchema,
} from '../../../functions/core/domain/change-journal.ts';
import { toPublicClient } from '../../../functions/core/domain/client-state.ts';
import {
  PROBLEMS,
  type ProblemDocument,
  ProblemError,
  type ProblemSlug,
  problemDocument,
} from '../../../functions/core/domain/problems.ts';
import type {
  PatchClientRequestSchema,
  PublicClient,
  ReplaceSecretsRequestSchema,
} from '../../../functions/core/domain/schemas.ts';

describe('clients/schemas.ts matches the handler', () => {
  it('has the same types as the handler', () => {
    expectTypeOf<v.InferOutput<typeof PublicClientSchema>>().toEqualTypeOf<PublicClient>();
    expectTypeOf<v.InferOutput<typeof ProblemDocumentSchema>>().toEqualTypeOf<ProblemDocument>();
    expectTypeOf<Parameters<ClientConfigClient['updateClient']>[0]>().toEqualTypeOf<
      v.InferOutput<typeof PatchClientRequestSchema>
    >();
    expectTypeOf<Parameters<ClientConfigClient['replaceSecrets']>[0]>().toEqualTypeOf<
      v.InferOutput<typeof ReplaceSecretsRequestSchema>['client_secret']
    >();
    expectTypeOf<
      Awaited<ReturnType<ClientConfigClient['getClient']>>['client']
    >().toEqualTypeOf<PublicClient>();
  });

  it('accepts what toPublicClient makes of an Affix client', () => {
    const client = toPublicClient({
      client_id: 'c-1',
      client_secret: ['short', 'sandbox-secret-aaaaaaaaaaaaaaaa'],
      name: 'App',
      redirect_uris: ['https://app.example.com/cb'],
      webhook_uri: null,
    });
    expect(v.parse(PublicClientSchema, client)).toEqual(client);
  });

  it.each(Object.keys(PROBLEMS) as ProblemSlug[])('accepts the problem document of %s', (slug) => {
    const errors = slug === 'validation-failed' ? [{ pointer: '', detail: 'x' }] : undefined;
    const document = problemDocument(new ProblemError(slug, 'detail', { errors }), 'req-1');
    expect(v.parse(ProblemDocumentSchema, document)).toEqual(document);
  });
});

describe('the change journal schemas match the handler', () => {
  const entries: unknown[] = [
    {
      at: '2026-12-06T20:00:00.000Z',
      actor: 'rotation',
      request_id: 'run-1',
      fields: [{ field: 'client_secret', before: ['****aaaa'], after: ['****aaaa', '****'] }],
      etag_before: null,
      etag_after: '"x"',
    },
    {
      at: '2026-12-06T20:00:01.000Z',
      actor: 'arn:aws:sts::000000000000:assumed-role/local-writer/local',
      request_id: 'req-2',
      fields: [
        { field: 'name', before: 'A', after: 'B' },
        { field: 'webhook_uri', before: 'https://a.example.com/', after: null },
        { field: 'redirect_uris', before: [], after: ['https://b.example.com/cb'] },
      ],
      etag_before: '"x"',
      etag_after: '"y"',
    },
    {
      at: 'x',
      actor: 'y',
      request_id: 'z',
      fields: [{ field: 'owner', before: 'a', after: 'b' }],
      etag_before: null,
      etag_after: 'e',
    },
    { at: 'x', actor: 'y', request_id: 'z', fields: [], etag_after: 'e' },
    {
      at: 'x',
      actor: 'y',
      request_id: 'z',
      fields: [{ field: 'name', before: null, after: 'b' }],
      etag_before: null,
      etag_after: 'e',
    },
  ];

  it('has the same types as the handler', () => {
    expectTypeOf<v.InferOutput<typeof ChangeEntrySchema>>().toEqualTypeOf<ChangeEntry>();
    expectTypeOf<v.InferOutput<typeof ChangePageSchema>>().toEqualTypeOf<ChangesAnswer>();
  });

  it.each(entries.map((entry, index) => [index, entry] as const))(
    'gives entry %i the same verdict as the handler',
    (_index, entry) => {
      expect(v.safeParse(ChangeEntrySchema, entry).success).toBe(
        v.safeParse(HandlerChangeEntrySchema, entry).success,
      );
    },
  );

  it('accepts two entries and refuses three (the list checks something)', () => {
    expect(entries.map((entry) => v.safeParse(ChangeEntrySchema, entry).success)).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
