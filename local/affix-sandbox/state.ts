/**
 * The sandbox's client as Affix stores it, and Affix's rules for it: the `basic` scheme (any current
 * secret authenticates), `ClientRequest` validation and whole-object replace. Pure: no I/O.
 *
 * Fields the proxy does not model: the spec's `ClientResponse` allows more than the five fields we
 * know, so the sandbox can be seeded with `extraFields` (e.g. `{ logo_uri: ... }`). They are part of
 * the sandbox's schema from then on: GET returns them, and because POST replaces the whole client, a
 * POST that sends them back keeps them (whatever value it sends), and a POST that leaves one out
 * erases it, as a replace-everything server does. Keys outside the schema are ignored (dropped).
 * They are kept as JSON text (`jsonMembers` finds each value's span), so a value comes back byte for
 * byte as it was seeded or POSTed: `1e400`, `12345678901234567890123`, `-0`, `1.50`, escapes.
 */

export const CLIENT_PATH = '/2023-03-01/management/client';

/** The client as Affix stores it (`ClientResponse`). `webhook_uri` may be absent or null per the spec. */
export interface AffixClientState {
  client_id: string;
  client_secret: string[];
  name: string;
  redirect_uris: string[];
  webhook_uri?: string | null;
}

export const SANDBOX_DEFAULTS = {
  clientId: 'sandbox-client-0001',
  clientSecret: ['sandbox-secret-aaaaaaaaaaaaaaaa'],
  name: 'Sandbox App',
  redirectUris: ['https://app.example.com/callback'],
  webhookUri: 'https://hooks.example.com/affix',
} as const;

export function defaultSandboxClient(): AffixClientState {
  return {
    client_id: SANDBOX_DEFAULTS.clientId,
    client_secret: [...SANDBOX_DEFAULTS.clientSecret],
    name: SANDBOX_DEFAULTS.name,
    redirect_uris: [...SANDBOX_DEFAULTS.redirectUris],
    webhook_uri: SANDBOX_DEFAULTS.webhookUri,
  };
}

/** `Basic base64(client_id:secret)`, the value Affix's `basic` scheme expects in `Authorization`. */
export function basicAuthHeader(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`, 'utf8').toString('base64')}`;
}

/** The `client_id` and secret a `Basic` header names (whether or not they are valid). */
export function parseBasicAuth(
  header: string | null | undefined,
): { id: string; secret: string } | undefined {
  if (header === null || header === undefined) return undefined;
  const match = /^basic\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export function isAuthorized(header: string | null | undefined, client: AffixClientState): boolean {
  const named = parseBasicAuth(header);
  return (
    named !== undefined &&
    named.id === client.client_id &&
    named.secret.length > 0 &&
    client.client_secret.includes(named.secret)
  );
}

export function copyClient(state: AffixClientState): AffixClientState {
  const copy: AffixClientState = {
    client_id: state.client_id,
    client_secret: [...state.client_secret],
    name: state.name,
    redirect_uris: [...state.redirect_uris],
  };
  if (state.webhook_uri !== undefined) copy.webhook_uri = state.webhook_uri;
  return copy;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

export type ValidationResult =
  | { ok: true; value: Omit<AffixClientState, 'client_id'> }
  | { ok: false; error: string };

/**
 * `ClientRequest` per the spec: no formats or lengths; extra keys are allowed (the caller keeps only
 * those in its schema, see {@link pickExtraFields}).
 */
export function validateClientRequest(body: unknown): ValidationResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'request body must be a JSON object' };
  }
  const record = body as Record<string, unknown>;
  if (!isStringArray(record.client_secret)) {
    return { ok: false, error: 'client_secret is required and must be an array of strings' };
  }
  if (!isStringArray(record.redirect_uris)) {
    return { ok: false, error: 'redirect_uris is required and must be an array of strings' };
  }
  if (typeof record.name !== 'string') {
    return { ok: false, error: 'name is required and must be a string' };
  }
  const webhook = record.webhook_uri;
  if (webhook !== undefined && webhook !== null && typeof webhook !== 'string') {
    return { ok: false, error: 'webhook_uri must be a string or null' };
  }
  return {
    ok: true,
    value: {
      client_secret: [...record.client_secret],
      redirect_uris: [...record.redirect_uris],
      name: record.name,
      // Replace semantics: leaving webhook_uri out clears it.
      webhook_uri: webhook ?? null,
    },
  };
}

const MODELLED_FIELDS: ReadonlySet<string> = new Set([
  'client_id',
  'client_secret',
  'name',
  'redirect_uris',
  'webhook_uri',
]);

/** Unmodelled fields as the sandbox keeps them: name -> the value's JSON text, in order. */
export type ExtraFieldTexts = Map<string, string>;

export function checkExtraFields(fields: Record<string, unknown>): ExtraFieldTexts {
  const texts: ExtraFieldTexts = new Map();
  for (const [name, value] of Object.entries(fields)) {
    if (MODELLED_FIELDS.has(name)) throw new RangeError(`${name} is a modelled field, not an extra one`);
    texts.set(name, JSON.stringify(value));
  }
  return texts;
}

/** The unmodelled members of a client's JSON text, their value text kept byte for byte. */
export function extraFieldTexts(text: string): ExtraFieldTexts {
  const texts: ExtraFieldTexts = new Map();
  for (const [name, value] of jsonMembers(text) ?? []) if (!MODELLED_FIELDS.has(name)) texts.set(name, value);
  return texts;
}

/**
 * What a whole-object POST leaves of the schema's extra fields: those it sent, as it sent them
 * (their JSON text, in the order it sent them).
 */
export function pickExtraFields(bodyText: string, schema: ReadonlySet<string>): ExtraFieldTexts {
  const kept: ExtraFieldTexts = new Map();
  for (const [name, value] of jsonMembers(bodyText) ?? []) if (schema.has(name)) kept.set(name, value);
  return kept;
}

/** The client's JSON text: the modelled fields, then the unmodelled ones as their own text. */
export function clientText(client: AffixClientState, extras: ExtraFieldTexts): string {
  const modelled = JSON.stringify(copyClient(client));
  if (extras.size === 0) return modelled;
  const members = [...extras].map(([name, value]) => `${JSON.stringify(name)}:${value}`);
  return `${modelled.slice(0, -1)},${members.join(',')}}`;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * The members of a JSON object text as `[name, value text]`, or undefined when the text is not an
 * object. The text must be valid JSON (check with `JSON.parse` first): this only finds the spans.
 */
export function jsonMembers(text: string): [string, string][] | undefined {
  let at = 0;
  const skipSpace = (): void => {
    while (at < text.length && WHITESPACE.has(text.charAt(at))) at += 1;
  };
  const skipString = (): void => {
    at += 1;
    while (at < text.length && text.charAt(at) !== '"') at += text.charAt(at) === '\\' ? 2 : 1;
    at += 1;
  };
  const skipValue = (): void => {
    const first = text.charAt(at);
    if (first === '"') {
      skipString();
      return;
    }
    if (first === '{' || first === '[') {
      let depth = 0;
      do {
        const char = text.charAt(at);
        if (char === '"') {
          skipString();
          continue;
        }
        if (char === '{' || char === '[') depth += 1;
        else if (char === '}' || char === ']') depth -= 1;
        at += 1;
      } while (depth > 0 && at < text.length);
      return;
    }
    while (at < text.length && !',}]'.includes(text.charAt(at)) && !WHITESPACE.has(text.charAt(at))) at += 1;
  };
  skipSpace();
  if (text.charAt(at) !== '{') return undefined;
  at += 1;
  skipSpace();
  const members: [string, string][] = [];
  if (text.charAt(at) === '}') return members;
  while (at < text.length) {
    skipSpace();
    const keyStart = at;
    skipString();
    const name = JSON.parse(text.slice(keyStart, at)) as string;
    skipSpace();
    at += 1; // the colon
    skipSpace();
    const valueStart = at;
    skipValue();
    members.push([name, text.slice(valueStart, at)]);
    skipSpace();
    if (text.charAt(at) !== ',') break;
    at += 1;
  }
  return members;
}

/** Affix's documented error bodies per status (what an injected status answers unless told). */
export function defaultStatusBody(status: number): unknown {
  switch (status) {
    case 400:
      return { message: 'Bad Request', validation_error: 'injected fault' };
    case 401:
      return {
        error: 'authentication_error',
        message: 'Your password is incorrect',
        code: 'incorrect_username_or_password',
      };
    case 409:
      return { error: 'conflict' };
    case 429:
      return { message: 'Too many requests' };
    case 503:
      return { message: 'Service unavailable' };
    default:
      return { message: status >= 500 ? 'Internal server error' : `Injected status ${status}` };
  }
}
