/**
 * The client's response schemas (clients/schemas.ts) against the handler's types and builders: the
 * inferred types equal `PublicClient` and `ProblemDocument` (checked by `tsc`, which type-checks the
 * tests), and the schemas accept what `toPublicClient` and `problemDocument` produce. The client's
 * parameters are the handler's request types.
 */
import * as v from 'valibot';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ClientConfigClient } from '../../../clients/index.ts';
import { ProblemDocumentSchema, PublicClientSchema } from '../../../clients/schemas.ts';
import { toPublicClient } from '../../../functions/client-config/masking.ts';
import {
  PROBLEMS,
  type ProblemDocument,
  ProblemError,
  type ProblemSlug,
  problemDocument,
} from '../../../functions/client-config/problems.ts';
import type {
  PatchClientRequestSchema,
  PublicClient,
  ReplaceSecretsRequestSchema,
} from '../../../functions/client-config/schemas.ts';

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
