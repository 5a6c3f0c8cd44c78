/**
 * Pure rules about the client's state: the entity tag, `If-Match`, and how a change merges into the
 * full object that Affix's replace-everything POST needs.
 *
 * @example
 * const next = mergePatch(current, { webhook_uri: null });
 * changedFields(current, next); // ['webhook_uri']
 */
import { createHash } from 'node:crypto';
import type { AffixClient, AffixClientUpdate, PatchClientRequest } from './schemas.ts';

export type ClientField = keyof AffixClientUpdate;

/** The fields in a fixed order, so the canonical form (and the ETag) does not depend on key order. */
const FIELDS: readonly ClientField[] = ['name', 'webhook_uri', 'redirect_uris', 'client_secret'];

/**
 * A strong validator over the full client, secrets included, so a rotation changes it too.
 * SHA-256 is one-way; a 128-bit prefix is plenty to tell versions apart.
 */
export function computeEtag(client: AffixClient): string {
  const canonical = JSON.stringify([
    client.client_id,
    client.name,
    client.webhook_uri ?? null,
    client.redirect_uris,
    client.client_secret,
  ]);
  return `"${createHash('sha256').update(canonical).digest('base64url').slice(0, 22)}"`;
}

/**
 * RFC 9110 §13.1.1: `*` matches any current representation; otherwise one of the listed entity tags
 * must match by strong comparison, so weak tags (`W/"..."`) never match.
 */
export function ifMatchSatisfied(ifMatch: string | undefined, currentEtag: string): boolean {
  if (ifMatch === undefined) return true;
  const trimmed = ifMatch.trim();
  if (trimmed === '*') return true;
  const tags = trimmed.match(/(?:W\/)?"[^"]*"/g) ?? [];
  return tags.some((tag) => tag === currentEtag);
}

/** What Affix needs for the POST: the full object without the read-only `client_id`. */
export function toUpdate(client: AffixClient): AffixClientUpdate {
  return {
    name: client.name,
    webhook_uri: client.webhook_uri ?? null,
    redirect_uris: [...client.redirect_uris],
    client_secret: [...client.client_secret],
  };
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

/** The names of the fields whose values differ; order of list items counts. */
export function changedFields(current: AffixClient, next: AffixClientUpdate): ClientField[] {
  const before = toUpdate(current);
  return FIELDS.filter((field) => {
    const a = before[field];
    const b = next[field];
    return Array.isArray(a) && Array.isArray(b) ? !sameList(a, b) : a !== b;
  });
}
