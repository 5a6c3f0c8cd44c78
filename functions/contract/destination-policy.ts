/**
 * Where `webhook_uri` and `redirect_uris` may point. `webhook_uri` decides where Affix sends employee
 * data, `redirect_uris` where Affix Connect sends authorization codes, so each stage names the hosts
 * allowed for each field, and some destinations are refused whatever a policy says. Pure: no imports but
 * the URL rule.
 *
 * Always refused: anything but https (plain http only for a loopback host where loopback is allowed),
 * a `user:password@` part, an IP literal in any spelling WHATWG URL reads as one (`0x7f.1`, `2130706433`,
 * `[::ffff:7f00:1]` included), the names `localhost` and `*.localhost`, a host that is not a dotted
 * LDH name (`exa_mple.com`, `hooks.`, a single label), and port 0. Loopback (`localhost`, 127.0.0.0/8,
 * `[::1]`, any port) is allowed only by `allowLoopback`, which only the function's environment of the
 * local stack sets: stage files cannot. The schema of a policy is `functions/core/domain/client-state.ts`
 * (valibot; the contract imports nothing).
 *
 * A policy lists, per field, exact hosts (`hooks.example.com`) and wildcards (`*.example.com`: any
 * subdomain at any depth, never `example.com` itself, never `example.com.attacker.net`), and the ports
 * allowed besides the default (443). `{ "anyHost": true }` says explicitly that any host is allowed (the
 * refusals above still hold).
 *
 * @example
 * const policy = { webhookUri: { hosts: ['*.example.com'] }, redirectUris: { hosts: [] } };
 * destinationRefusal('webhook_uri', 'https://example.com.attacker.net/h', policy)?.rule; // 'host-not-allowed'
 */
import { checkUrl } from './urls.ts';

/** The request fields that name a destination. */
export type DestinationField = 'webhook_uri' | 'redirect_uris';

export interface FieldDestinations {
  /** Exact hosts and `*.suffix` wildcards, lower-case, international names in their `xn--` form. */
  readonly hosts: readonly string[];
  /** Ports allowed besides the default one (443). */
  readonly ports?: readonly number[] | undefined;
}

export interface DestinationPolicy {
  /** Any host (the refusals no policy lifts still hold); `webhookUri` and `redirectUris` are then absent. */
  readonly anyHost?: true | undefined;
  /** With `anyHost`: ports allowed besides 443. */
  readonly ports?: readonly number[] | undefined;
  readonly webhookUri?: FieldDestinations | undefined;
  readonly redirectUris?: FieldDestinations | undefined;
  /** Loopback hosts on any port, http included: the local stack only. */
  readonly allowLoopback?: boolean | undefined;
}

/** Which rule refused a destination. */
export type DestinationRule =
  | 'not-a-url'
  | 'not-https'
  | 'user-info'
  | 'ip-literal'
  | 'loopback'
  | 'invalid-host'
  | 'port'
  | 'host-not-allowed';

export interface DestinationRefusal {
  readonly rule: DestinationRule;
  /** Names the field and says what failed; holds at most the URL's host and port, never its path. */
  readonly message: string;
}

// ------------------------------------------------------------------------------------------ hosts

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** Two or more LDH labels (RFC 1123), lower-case: no `_`, no empty label, no trailing dot. */
const DOTTED_HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})+$`);
/** A last label WHATWG URL reads as a number makes the whole host an IPv4 address (or invalid). */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;

/** `localhost` and its subdomains resolve to loopback (RFC 6761 section 6.3). */
function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

/** Why a host name (not a pattern) is not one we send anywhere, or undefined. */
function hostNameProblem(host: string): string | undefined {
  if (!DOTTED_HOST_NAME.test(host)) {
    return 'must be a fully qualified host name of lower-case letters, digits, dashes and dots (no _, no trailing dot)';
  }
  if (NUMERIC_LABEL.test(host.slice(host.lastIndexOf('.') + 1))) {
    return 'must not end with a numeric label (URL parsers read it as an IP address)';
  }
  if (isLoopbackName(host)) return 'must not be localhost or a subdomain of it';
  return undefined;
}

/**
 * Why an entry of a policy's `hosts` is refused, or undefined: an exact host or `*.` and a suffix of at
 * least two labels (`*.com` would allow a whole top-level domain), each also accepted unchanged by the
 * URL rule of `urls.ts`.
 */
export function hostPatternProblem(pattern: string): string | undefined {
  const host = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  const problem = hostNameProblem(host);
  if (problem !== undefined) return problem;
  const url = `https://${host}/`;
  const check = checkUrl(url);
  if (!check.ok || check.url !== url) return 'must be a host the URL rule accepts as written';
  return undefined;
}

/** Whether a host (lower-case, as WHATWG URL gives it) is allowed by one pattern. */
export function hostMatches(pattern: string, host: string): boolean {
  // The dot before the suffix is what keeps `example.com.attacker.net` and `badexample.com` out.
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return host === pattern;
}

// ------------------------------------------------------------------------------------ IP literals

/** What an IP literal is, for the message (every one is refused; only loopback may be let in). */
type AddressClass = 'loopback' | 'private' | 'link-local' | 'unspecified' | 'IPv4-mapped' | 'public';

const ADDRESS_CLASS_WORDS: Readonly<Record<AddressClass, string>> = {
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address (such as the instance metadata service)',
  unspecified: 'the unspecified address',
  'IPv4-mapped': 'an IPv4-mapped address',
  public: 'an IP literal',
};

function ipv4Class(octets: readonly number[]): AddressClass {
  const [a = 0, b = 0] = octets;
  if (a === 127) return 'loopback';
  if (a === 0) return 'unspecified';
  if (a === 169 && b === 254) return 'link-local';
  // RFC 1918, and the shared address space of carrier-grade NAT (RFC 6598).
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'private';
  return 'public';
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(host: string): number[] | undefined {
  const match = IPV4.exec(host);
  if (match === null) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

/** The eight 16-bit groups of an IPv6 address (`::` and a dotted IPv4 tail allowed), or undefined. */
export function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (const [index, piece] of pieces.entries()) {
      const v4 = index === pieces.length - 1 ? parseIpv4(piece) : undefined;
      if (v4 !== undefined) {
        groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        groups.push(Number.parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}

function ipv6Class(groups: readonly number[]): AddressClass {
  const [g0 = 0, , , , , g5 = 0, , g7 = 0] = groups;
  const zeroUpTo = (count: number) => groups.slice(0, count).every((group) => group === 0);
  if (zeroUpTo(7) && g7 === 1) return 'loopback';
  if (zeroUpTo(8)) return 'unspecified';
  // ::ffff:a.b.c.d reaches the IPv4 address a.b.c.d; some stacks also route ::a.b.c.d (deprecated).
  if (zeroUpTo(5) && (g5 === 0xffff || g5 === 0)) return 'IPv4-mapped';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xfe00) === 0xfc00) return 'private';
  return 'public';
}

/** The class of an IP literal host as WHATWG URL serializes it, or undefined for a name. */
function addressClass(host: string): AddressClass | undefined {
  const v4 = parseIpv4(host);
  if (v4 !== undefined) return ipv4Class(v4);
  if (host.startsWith('[') && host.endsWith(']')) {
    const groups = parseIpv6(host.slice(1, -1));
    // An unparsable bracketed host is still not a name: refused as an IP literal.
    return groups === undefined ? 'public' : ipv6Class(groups);
  }
  return undefined;
}

/** Loopback hosts the local stack may use: `localhost` names, 127.0.0.0/8 and `[::1]` (not mapped). */
function isLoopbackHost(host: string): boolean {
  if (isLoopbackName(host)) return true;
  const kind = addressClass(host);
  return kind === 'loopback';
}

// ----------------------------------------------------------------------------------- the check

/** The part of a policy that applies to one field: its host patterns (undefined: any) and ports. */
function fieldPolicy(
  field: DestinationField,
  policy: DestinationPolicy,
): { hosts: readonly string[] | undefined; ports: readonly number[] } {
  if (policy.anyHost === true) return { hosts: undefined, ports: policy.ports ?? [] };
  const entry = field === 'webhook_uri' ? policy.webhookUri : policy.redirectUris;
  return { hosts: entry?.hosts ?? [], ports: entry?.ports ?? [] };
}

const MAX_LISTED_PATTERNS = 10;
const MAX_ECHOED_HOST_LENGTH = 100;

function echo(host: string): string {
  return host.length > MAX_ECHOED_HOST_LENGTH ? `${host.slice(0, MAX_ECHOED_HOST_LENGTH)}…` : host;
}

function listed(patterns: readonly string[]): string {
  if (patterns.length === 0) return 'none';
  const shown = patterns.slice(0, MAX_LISTED_PATTERNS).join(', ');
  return patterns.length > MAX_LISTED_PATTERNS ? `${shown}, …` : shown;
}

/**
 * Why `raw` may not be a destination of `field` under `policy`, or undefined when it may. `label`
 * names the value in the message (default: the field).
 */
export function destinationRefusal(
  field: DestinationField,
  raw: string,
  policy: DestinationPolicy,
  label: string = field,
): DestinationRefusal | undefined {
  const refuse = (rule: DestinationRule, text: string): DestinationRefusal => ({
    rule,
    message: `${label} ${text}`,
  });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('not-a-url', 'must be an absolute URL');
  }
  if (url.username !== '' || url.password !== '') {
    return refuse('user-info', 'must not contain a user:password@ part');
  }
  const host = url.hostname;
  const loopbackAllowed = policy.allowLoopback === true && isLoopbackHost(host);
  if (url.protocol !== 'https:' && !(loopbackAllowed && url.protocol === 'http:')) {
    return refuse('not-https', 'must use https://');
  }
  // The local stack's loopback hosts: any port, no list (dev servers on 3000, 8080, ...).
  if (loopbackAllowed) return undefined;
  const kind = addressClass(host);
  if (kind !== undefined) {
    return refuse(
      'ip-literal',
      `must name a host, not an IP address (${echo(host)} is ${ADDRESS_CLASS_WORDS[kind]})`,
    );
  }
  if (isLoopbackName(host)) return refuse('loopback', `must not point at ${echo(host)} (loopback)`);
  const hostProblem = hostNameProblem(host);
  if (hostProblem !== undefined) return refuse('invalid-host', `host ${echo(host)} ${hostProblem}`);
  const { hosts, ports } = fieldPolicy(field, policy);
  if (url.port !== '' && (url.port === '0' || !ports.includes(Number(url.port)))) {
    const allowed = ports.length === 0 ? 'only the default port 443' : `443 or ${ports.join(', ')}`;
    return refuse('port', `must use ${allowed} on this stage, not port ${url.port}`);
  }
  if (hosts !== undefined && !hosts.some((pattern) => hostMatches(pattern, host))) {
    return refuse(
      'host-not-allowed',
      `host ${echo(host)} is not allowed for ${field} on this stage (allowed: ${listed(hosts)})`,
    );
  }
  return undefined;
}

/** What `npm start` allows: `example.com`, its subdomains and loopback hosts. */
export const LOCAL_DESTINATION_POLICY: DestinationPolicy = Object.freeze({
  webhookUri: { hosts: ['example.com', '*.example.com'] },
  redirectUris: { hosts: ['example.com', '*.example.com'] },
  allowLoopback: true,
});

/**
 * Any host, loopback included: for code that embeds the handler chain without a stage (tests, the
 * bench). The refusals no policy lifts still hold. A deployed function always has its stage's policy.
 */
export const OPEN_DESTINATION_POLICY: DestinationPolicy = Object.freeze({
  anyHost: true,
  allowLoopback: true,
});
