/**
 * Pure rules about the client's state: the entity tag, `If-Match`, and how a change merges into the
 * full object that Affix's replace-everything POST needs.
 *
 * @example
 * const next = mergePatch(current, { webhook_uri: null });
 * changedFields(current, next); // ['webhook_uri']
 * affixRequestBody(next); // the POST body: our four fields and every unmodelled field, as they came
 */
import { createHmac } from 'node:crypto';
import { ifMatchAllows, parseIfMatch } from '../../contract/if-match.ts';
import type { EtagKey } from './etag-key.ts';
import { canonicalJson } from './exact-json.ts';
import type { AffixClient, AffixClientUpdate, PatchClientRequest } from './schemas.ts';

/** The fields we model and change; unmodelled fields (`extra`) are carried, never changed. */
export type ClientField = Exclude<keyof AffixClientUpdate, 'extra'>;

const FIELDS: readonly ClientField[] = ['name', 'webhook_uri', 'redirect_uris', 'client_secret'];

/** Names the construction, so a future change of the canonical form cannot collide with this one. */
const ETAG_CONTEXT = 'affix-webhook-config etag v1';

/**
 * A strong validator over the full client (secrets and unmodelled fields included, so a rotation or
 * a change made elsewhere changes it too), keyed: an HMAC-SHA256 with a key only the proxy holds, so
 * a reader who sees every other field cannot test guesses of the secrets against it. The canonical
 * form sorts keys, so the same client (and key) gives the same tag in every container.
 */
export function computeEtag(client: AffixClient, key: EtagKey): string {
  const canonical = canonicalJson([
    ETAG_CONTEXT,
    client.client_id,
    client.name,
    client.webhook_uri ?? null,
    client.redirect_uris,
    client.client_secret,
    client.extra,
  ]);
  // 128 bits of the MAC (RFC 2104 allows truncation to half): as long as the unkeyed tag was.
  return `"${createHmac('sha256', key).update(canonical).digest('base64url').slice(0, 22)}"`;
}

/**
 * RFC 9110 §13.1.1 (`if-match.ts`): `*` matches any current representation; otherwise one of the
 * listed entity tags must match by strong comparison, so weak tags (`W/"..."`) never match. A value
 * that is not If-Match at all (the request guard answers `invalid-if-match` first) never matches.
 */
export function ifMatchSatisfied(ifMatch: string | undefined, currentEtag: string): boolean {
  const parsed = parseIfMatch(ifMatch === undefined ? undefined : [ifMatch]);
  return parsed.ok && ifMatchAllows(parsed.value, currentEtag);
}

/** What Affix needs for the POST: the full object without the read-only `client_id`. */
export function toUpdate(client: AffixClient): AffixClientUpdate {
  return {
    name: client.name,
    webhook_uri: client.webhook_uri ?? null,
    redirect_uris: [...client.redirect_uris],
    client_secret: [...client.client_secret],
    extra: client.extra,
  };
}

/**
 * The JSON body of Affix's POST: every unmodelled field exactly as Affix sent it (`client_id` is
 * read-only and never among them), then our four fields.
 */
export function affixRequestBody(update: AffixClientUpdate): string {
  const { extra, ...fields } = update;
  return JSON.stringify({ ...extra, ...fields });
}

/** Applies a patch (JSON merge patch semantics: `webhook_uri: null` turns webhooks off). */
export function mergePatch(current: AffixClient, patch: PatchClientRequest): AffixClientUpdate {
  const next = toUpdate(current);
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.webhook_uri !== undefined) next.webhook_uri = patch.webhook_uri;
  if (patch.redirect_uris !== undefined) next.redirect_uris = [...patch.redirect_uris];
  return next;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** The names of our fields whose values differ; order of list items counts. */
export function changedFields(current: AffixClient, next: AffixClientUpdate): ClientField[] {
  const before = toUpdate(current);
  return FIELDS.filter((field) => {
    const a = before[field];
    const b = next[field];
    return Array.isArray(a) && Array.isArray(b) ? !sameList(a, b) : a !== b;
  });
}
