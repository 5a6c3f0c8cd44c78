/**
 * The `If-Match` request header (RFC 9110 section 13.1.1), read strictly: `*`, or a comma-separated
 * list of entity tags, each `"opaque"` or weak `W/"opaque"` (the grammar allows weak tags; a strong
 * comparison, which If-Match requires, never matches one). Anything else (a tag without its quotes,
 * text around a tag, `*` in a list, a lower-case `w/`, no tag at all) is not If-Match and must not be
 * answered as if the client had changed; neither may two `If-Match` fields, of which a gateway would
 * otherwise keep only the last. Pure: no AWS or Node imports.
 *
 * @example
 * parseIfMatch(['"abc", W/"def"']); // { ok: true, value: { kind: 'tags', tags: ['"abc"', 'W/"def"'] } }
 * parseIfMatch(['abc']);            // { ok: false, reason: 'syntax' }
 */

export type IfMatch = { readonly kind: 'any' } | { readonly kind: 'tags'; readonly tags: readonly string[] };

export type IfMatchRejection = 'several' | 'empty' | 'syntax';

export type IfMatchParse =
  /** `value` undefined: no If-Match was sent (an unconditional write). */
  | { readonly ok: true; readonly value: IfMatch | undefined }
  | { readonly ok: false; readonly reason: IfMatchRejection };

/** The expected form, for problem details. */
export const IF_MATCH_FORM =
  'If-Match: * or a comma-separated list of quoted entity tags, such as If-Match: "H4zGLj5ObcTrhKEUTuGG4a" (the ETag of your GET, quotes included)';

/** One entity tag: optional `W/` (case-sensitive), then `"`, etagc (%x21 / %x23-7E / obs-text), `"`. */
const ENTITY_TAG = /(?:W\/)?"[\x21\x23-\x7E\x80-\xFF]*"/y;
const OPTIONAL_WHITESPACE = /[ \t]*/y;

/** Reads one field value; empty list elements are skipped, as RFC 9110 section 5.6.1.2 requires. */
function parseFieldValue(value: string): IfMatchParse {
  if (value.trim() === '*') return { ok: true, value: { kind: 'any' } };
  const tags: string[] = [];
  let at = 0;
  const skipWhitespace = () => {
    OPTIONAL_WHITESPACE.lastIndex = at;
    OPTIONAL_WHITESPACE.test(value);
    at = OPTIONAL_WHITESPACE.lastIndex;
  };
  for (;;) {
    skipWhitespace();
    if (at === value.length) break;
    if (value.charCodeAt(at) === 0x2c) {
      at += 1;
      continue;
    }
    ENTITY_TAG.lastIndex = at;
    const match = ENTITY_TAG.exec(value);
    if (match === null) return { ok: false, reason: 'syntax' };
    tags.push(match[0]);
    at = ENTITY_TAG.lastIndex;
    skipWhitespace();
    if (at < value.length && value.charCodeAt(at) !== 0x2c) return { ok: false, reason: 'syntax' };
  }
  return tags.length === 0 ? { ok: false, reason: 'empty' } : { ok: true, value: { kind: 'tags', tags } };
}

/** Every `If-Match` field of the request, in order (API Gateway's `multiValueHeaders`). */
export function parseIfMatch(values: readonly string[] | undefined): IfMatchParse {
  if (values === undefined || values.length === 0) return { ok: true, value: undefined };
  if (values.length > 1) return { ok: false, reason: 'several' };
  return parseFieldValue(values[0] ?? '');
}

/**
 * Whether the precondition holds for the current strong ETag (quoted): no If-Match, `*`, or a listed
 * tag equal to it by strong comparison (a weak tag never is).
 */
export function ifMatchAllows(ifMatch: IfMatch | undefined, currentEtag: string): boolean {
  if (ifMatch === undefined || ifMatch.kind === 'any') return true;
  return ifMatch.tags.some((tag) => !tag.startsWith('W/') && tag === currentEtag);
}

/** Problem details per rejection: each shows the expected form, none repeats what was sent. */
export const IF_MATCH_REJECTIONS: Readonly<Record<IfMatchRejection, string>> = {
  several: `Send one If-Match header, not several. Expected: ${IF_MATCH_FORM}.`,
  empty: `If-Match names no entity tag. Expected: ${IF_MATCH_FORM}.`,
  syntax: `If-Match is not * or a list of quoted entity tags. Expected: ${IF_MATCH_FORM}.`,
};
