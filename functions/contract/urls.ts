/**
 * The one URL rule, shared by the configuration (`AFFIX_BASE_URL`), the request schemas
 * (`webhook_uri`, `redirect_uris`), the stage files and the caller client (`baseUrl`): what is checked is
 * what is stored and sent. Pure: no AWS or Node imports.
 *
 * A URL is accepted only as printable ASCII without spaces or backslashes whose WHATWG serialization
 * differs from it at most in the spellings that mean the same to every parser: the case of the
 * scheme and the host, a default port written out, and the `/` of an empty path. Anything else that the
 * parser would rewrite (octal, hex or short IPv4 hosts, dot segments, characters it percent-encodes,
 * an empty port, IPv6 spellings, `user@`) is refused, so the string we validated and the string a
 * client later parses cannot point at different places. The accepted URL is returned in its canonical
 * form, which is what we store. Plain `http://` is accepted, where a field allows it at all, only for
 * the literal hosts `localhost`, `127.0.0.1` and `[::1]`.
 *
 * @example
 * checkUrl('HTTPS://Hooks.Example.com:443'); // { ok: true, url: 'https://hooks.example.com/' }
 * checkUrl('http://0177.0.0.1/cb');          // { ok: false, reason: 'not-canonical' }
 */

/** The only hosts where plain http:// is acceptable: a developer's own machine, spelled literally. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** True for the hosts where plain http:// is acceptable (given as a parsed, lower-case `hostname`). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.includes(hostname);
}

/**
 * Why a URL is refused: `characters` (control characters, whitespace of any kind, backslashes, anything
 * outside printable ASCII), `not-https` (plain http:// where it is never allowed), `scheme` (neither
 * https:// nor http:// on a loopback host), and the others as named.
 */
export type UrlRejection =
  | 'characters'
  | 'not-a-url'
  | 'not-https'
  | 'scheme'
  | 'user-info'
  | 'fragment'
  | 'query'
  | 'not-canonical';

export type UrlCheck = { ok: true; url: string } | { ok: false; reason: UrlRejection };

export interface UrlRuleOptions {
  /** Whether a `?query` may be part of it (not for a base URL that paths are appended to). */
  allowQuery?: boolean;
  /** Whether plain http:// is accepted for the loopback hosts (redirect URIs, a local Affix). */
  allowLoopbackHttp?: boolean;
}

/** Visible ASCII except the backslash: `\` is a path separator to WHATWG parsers and not to others. */
const PLAIN_URL_CHARACTERS = /^[\x21-\x5B\x5D-\x7E]+$/;
/** scheme `://` authority, then the rest (path, query, fragment). */
const URL_PARTS = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443' };

function parse(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * The raw string with only the spellings that mean the same put right: lower-case scheme and host, no
 * default port, `/` for an empty path. Equal to the WHATWG serialization exactly when nothing else would
 * be rewritten.
 */
function benignlyNormalized(scheme: string, authority: string, rest: string): string {
  const lowerScheme = scheme.toLowerCase();
  const portMatch = /^(.*?)(?::(\d*))?$/s.exec(authority);
  const host = (portMatch?.[1] ?? authority).toLowerCase();
  const port = portMatch?.[2];
  const keptPort = port === undefined || port === DEFAULT_PORTS[lowerScheme] ? '' : `:${port}`;
  const path = rest === '' || rest.startsWith('?') || rest.startsWith('#') ? `/${rest}` : rest;
  return `${lowerScheme}://${host}${keptPort}${path}`;
}

/** The URL rule (see the module comment): the canonical URL, or why it is refused. */
export function checkUrl(raw: string, options: UrlRuleOptions = {}): UrlCheck {
  if (!PLAIN_URL_CHARACTERS.test(raw)) return { ok: false, reason: 'characters' };
  const parts = URL_PARTS.exec(raw);
  const url = parse(raw);
  if (parts === null || url === undefined || url.hostname === '') return { ok: false, reason: 'not-a-url' };
  const [, scheme = '', authority = '', rest = ''] = parts;
  if (authority.includes('@') || url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'user-info' };
  }
  if (url.protocol !== 'https:') {
    if (!options.allowLoopbackHttp) return { ok: false, reason: 'not-https' };
    if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) return { ok: false, reason: 'scheme' };
  }
  if (url.hash !== '' || raw.includes('#')) return { ok: false, reason: 'fragment' };
  if (!options.allowQuery && (url.search !== '' || raw.includes('?'))) return { ok: false, reason: 'query' };
  if (benignlyNormalized(scheme, authority, rest) !== url.href) return { ok: false, reason: 'not-canonical' };
  return { ok: true, url: url.href };
}

/** The canonical form of an accepted URL, for comparisons; `undefined` when the rule refuses it. */
export function canonicalUrl(raw: string, options: UrlRuleOptions = {}): string | undefined {
  const result = checkUrl(raw, options);
  return result.ok ? result.url : undefined;
}

/** What each refusal means, for messages that name the field. */
export const URL_RULE_MESSAGES: Readonly<Record<UrlRejection, string>> = {
  characters:
    'must consist of printable ASCII characters without spaces or backslashes (percent-encode the rest; give an international host in its xn-- form)',
  'not-a-url': 'must be an absolute URL with a host',
  'not-https': 'must use https://',
  scheme: 'must use https:// (http:// only for the hosts localhost, 127.0.0.1 and [::1])',
  'user-info': 'must not contain a user:password@ part',
  fragment: 'must not contain a #fragment',
  query: 'must not contain a ?query',
  'not-canonical':
    'must be written the way URL parsers read it: no IPv4 address in octal, hex or short form, no dot segments, no empty port, nothing a parser would re-encode',
};
