/**
 * A leak corpus and a leak detector written independently of the proxy's own check
 * (`functions/core/domain/upstream-text.ts` is never imported here): the encodings are listed below,
 * each one a plain function, so a form the proxy forgets is still built and still found.
 *
 * - {@link leakCorpus} builds, for a secret, every form in which an upstream text could carry it: as
 *   Affix would write it into a 400 `message`, or split across `message` and `validation_error`.
 * - {@link findLeaks} searches texts we produced (answers, log lines) for every one of those forms,
 *   case-insensitively, also inside JSON string values and with zero-width characters removed, and for
 *   both halves of any form appearing apart (a secret split across two fields).
 *
 * Reversed text is in the corpus too: nobody echoes a secret backwards by accident, but the cost of
 * listing it is nil and it keeps a check that only looks "forwards" honest.
 *
 * @example
 * expect(findLeaks([response.body, ...logLines], [SECRET_A], CLIENT_ID)).toEqual([]);
 */

export interface Leak {
  /** Which secret (by index into the list given), never the value, so failures do not spread it. */
  secretIndex: number;
  form: string;
}

/** HTML's named entities for ASCII punctuation, as a browser-minded echo would write them. */
const HTML_NAMES: Readonly<Record<string, string>> = {
  '&': 'amp',
  '<': 'lt',
  '>': 'gt',
  '"': 'quot',
  "'": 'apos',
  '/': 'sol',
  ':': 'colon',
  '=': 'equals',
  '+': 'plus',
  '#': 'num',
  '!': 'excl',
  '%': 'percnt',
  '@': 'commat',
  '(': 'lpar',
  ')': 'rpar',
  '*': 'ast',
  ',': 'comma',
  '.': 'period',
  ';': 'semi',
  '?': 'quest',
  '[': 'lsqb',
  ']': 'rsqb',
  '\\': 'bsol',
  _: 'lowbar',
  '`': 'grave',
  '{': 'lcub',
  '}': 'rcub',
  '|': 'verbar',
  '~': 'tilde',
  '^': 'Hat',
  $: 'dollar',
  '-': 'hyphen',
};

const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad'];
const ZERO_WIDTH_PATTERN = new RegExp(`[${ZERO_WIDTH.join('')}]`, 'g');

const utf8 = (value: string) => Buffer.from(value, 'utf8');
const hexByte = (byte: number) => byte.toString(16).padStart(2, '0');
const utf16Units = (value: string) => Array.from({ length: value.length }, (_, i) => value.charCodeAt(i));

/** An encoding as it appears in text, and the part of it a search looks for. */
interface Encoding {
  form: string;
  /** The text an upstream message would contain. */
  write: (value: string) => string;
  /** What to search for (defaults to `write`): for shifted Base64, the part that depends on the value only. */
  find?: (value: string) => string;
}

/** Base64 of the value after `shift` bytes of something else: what Affix shows when it encodes a longer text. */
function shiftedBase64(shift: number, url: boolean): Encoding {
  const encode = (bytes: Buffer) => bytes.toString(url ? 'base64url' : 'base64');
  const write = (v: string) => encode(Buffer.concat([Buffer.from('xyz'.slice(0, shift)), utf8(v)]));
  // The characters that do not depend on the neighbours: those equal whatever bytes surround the value.
  // (Enough bytes after it that neither encoding ends in padding, which would agree by accident.)
  const find = (v: string) => {
    const bytes = utf8(v);
    const after = 6 - ((shift + bytes.length) % 3);
    const a = encode(Buffer.concat([Buffer.alloc(shift, 0x00), bytes, Buffer.alloc(after, 0x00)]));
    const b = encode(Buffer.concat([Buffer.alloc(shift, 0xff), bytes, Buffer.alloc(after, 0xff)]));
    let start = 0;
    while (start < a.length && a[start] !== b[start]) start += 1;
    let end = a.length;
    while (end > start && a[end - 1] !== b[end - 1]) end -= 1;
    return a.slice(start, end);
  };
  return { form: `base64${url ? 'url' : ''}-shift${shift}`, write, find };
}

/** Every encoding the corpus lists, for a secret and for the Basic credential `id:secret`. */
export const ENCODINGS: readonly Encoding[] = [
  { form: 'raw', write: (v) => v },
  { form: 'upper-case', write: (v) => v.toUpperCase() },
  { form: 'lower-case', write: (v) => v.toLowerCase() },
  { form: 'reversed', write: (v) => [...v].reverse().join('') },
  { form: 'json-escaped', write: (v) => JSON.stringify(v).slice(1, -1) },
  { form: 'slash-escaped', write: (v) => JSON.stringify(v).slice(1, -1).replaceAll('/', '\\/') },
  {
    form: 'unicode-escaped',
    write: (v) =>
      utf16Units(v)
        .map((unit) => `\\u${unit.toString(16).padStart(4, '0')}`)
        .join(''),
  },
  {
    form: 'unicode-escaped-upper',
    write: (v) =>
      utf16Units(v)
        .map((unit) => `\\u${unit.toString(16).toUpperCase().padStart(4, '0')}`)
        .join(''),
  },
  { form: 'hex', write: (v) => utf8(v).toString('hex') },
  { form: 'hex-upper', write: (v) => utf8(v).toString('hex').toUpperCase() },
  { form: 'base64', write: (v) => utf8(v).toString('base64') },
  { form: 'base64-unpadded', write: (v) => utf8(v).toString('base64').replace(/=+$/, '') },
  { form: 'base64url', write: (v) => utf8(v).toString('base64url') },
  {
    form: 'base64url-padded',
    write: (v) => utf8(v).toString('base64').replaceAll('+', '-').replaceAll('/', '_'),
  },
  { form: 'base64-upper-case', write: (v) => utf8(v).toString('base64').toUpperCase() },
  ...[1, 2].flatMap((shift) => [false, true].map((url) => shiftedBase64(shift, url))),
  { form: 'url-encoded', write: (v) => encodeURIComponent(v) },
  { form: 'url-encoded-form', write: (v) => new URLSearchParams({ x: v }).toString().slice(2) },
  {
    form: 'url-encoded-every-byte',
    write: (v) => [...utf8(v)].map((byte) => `%${hexByte(byte).toUpperCase()}`).join(''),
  },
  {
    form: 'url-encoded-every-byte-lower',
    write: (v) => [...utf8(v)].map((byte) => `%${hexByte(byte)}`).join(''),
  },
  {
    form: 'url-encoded-twice',
    write: (v) => [...utf8(v)].map((byte) => `%25${hexByte(byte).toUpperCase()}`).join(''),
  },
  {
    form: 'html-named',
    write: (v) => [...v].map((c) => (HTML_NAMES[c] ? `&${HTML_NAMES[c]};` : c)).join(''),
  },
  { form: 'html-decimal', write: (v) => [...v].map((c) => `&#${c.codePointAt(0)};`).join('') },
  {
    form: 'html-hex',
    write: (v) => [...v].map((c) => `&#x${(c.codePointAt(0) ?? 0).toString(16)};`).join(''),
  },
  { form: 'zero-width', write: (v) => [...v].join(ZERO_WIDTH[0]) },
  {
    form: 'zero-width-mixed',
    write: (v) => [...v].map((c, i) => `${c}${ZERO_WIDTH[i % ZERO_WIDTH.length]}`).join(''),
    find: (v) => v,
  },
];

/** Short needles would match ordinary text (our secrets have at least 16 characters). */
const MIN_NEEDLE = 8;

/** The values whose forms are searched: the secret, and with the client id our Basic credential. */
function valuesOf(secret: string, clientId?: string): { prefix: string; value: string }[] {
  const values = [{ prefix: '', value: secret }];
  if (clientId !== undefined) values.push({ prefix: 'credential-', value: `${clientId}:${secret}` });
  return values;
}

export interface LeakCase {
  form: string;
  /** What Affix answers in its 400 body. */
  body: { message?: string; validation_error?: string };
}

/**
 * Affix 400 bodies carrying `secret` in every listed form: alone, inside a sentence, after a field
 * name, and split across `message` and `validation_error`.
 */
export function leakCorpus(secret: string, clientId?: string): LeakCase[] {
  const cases: LeakCase[] = [];
  for (const { prefix, value } of valuesOf(secret, clientId)) {
    for (const encoding of ENCODINGS) {
      const text = encoding.write(value);
      const form = `${prefix}${encoding.form}`;
      cases.push({ form, body: { message: `client_secret ${text} is not valid` } });
      cases.push({
        form: `${form} (validation_error)`,
        body: { message: 'Bad Request', validation_error: text },
      });
      const half = Math.floor(text.length / 2);
      cases.push({
        form: `${form} (split)`,
        body: { message: text.slice(0, half), validation_error: text.slice(half) },
      });
    }
  }
  return cases;
}

function stringLeaves(value: unknown, into: string[], depth = 0): void {
  if (depth > 64) return;
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringLeaves(item, into, depth + 1);
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      into.push(key);
      stringLeaves(item, into, depth + 1);
    }
  }
}

/**
 * The texts as searched: each one, every string (and key) inside it when it is JSON, each also with
 * zero-width characters removed; all lower-cased (every form is searched case-insensitively).
 */
export function searchCorpus(texts: readonly string[]): string[] {
  const corpus = [...texts];
  for (const text of texts) {
    const trimmed = text.trimStart();
    if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) continue;
    try {
      stringLeaves(JSON.parse(text), corpus);
    } catch {
      // not JSON: searched as is
    }
  }
  const views = corpus.flatMap((text) => [text, text.replace(ZERO_WIDTH_PATTERN, '')]);
  return [...new Set(views.map((text) => text.toLowerCase()))];
}

/** The needles of a secret, by form (distinct, long enough), cached: the property suite asks often. */
const needleCache = new Map<string, { form: string; needle: string }[]>();
function needlesOf(secret: string, clientId?: string): { form: string; needle: string }[] {
  const key = JSON.stringify([secret, clientId ?? null]);
  const cached = needleCache.get(key);
  if (cached !== undefined) return cached;
  const seen = new Set<string>();
  const needles: { form: string; needle: string }[] = [];
  for (const { prefix, value } of valuesOf(secret, clientId)) {
    for (const encoding of ENCODINGS) {
      const needle = (encoding.find ?? encoding.write)(value).toLowerCase();
      if (needle.length < MIN_NEEDLE || seen.has(needle)) continue;
      seen.add(needle);
      needles.push({ form: `${prefix}${encoding.form}`, needle });
    }
  }
  if (needleCache.size > 10_000) needleCache.clear();
  needleCache.set(key, needles);
  return needles;
}

/** Between the searched texts, so no needle matches across two of them by accident. */
const SEPARATOR = '\u0000\u0001\u0000';

/** A prime modulus and base of the rolling hash below: every intermediate value stays an exact double. */
const HASH_MODULUS = 2_147_483_647;
const HASH_BASE = 65_599;

function gramHash(text: string, from: number): number {
  let hash = 0;
  for (let i = from; i < from + MIN_NEEDLE; i += 1)
    hash = (hash * HASH_BASE + text.charCodeAt(i)) % HASH_MODULUS;
  return hash;
}

/**
 * Which of `needles` (each at least {@link MIN_NEEDLE} characters) occur in `haystack`, in one pass over
 * it instead of one search per needle: a rolling hash of every window of MIN_NEEDLE characters finds the
 * places where some needle starts, and each needle is compared there in full. Exactly
 * `haystack.includes(needle)` for each needle; a hash collision only costs a comparison.
 */
function presentNeedles(haystack: string, needles: Iterable<string>): Set<string> {
  const byStart = new Map<number, string[]>();
  for (const needle of new Set(needles)) {
    const hash = gramHash(needle, 0);
    const list = byStart.get(hash);
    if (list === undefined) byStart.set(hash, [needle]);
    else list.push(needle);
  }
  const present = new Set<string>();
  if (haystack.length < MIN_NEEDLE || byStart.size === 0) return present;
  // BASE^(MIN_NEEDLE - 1): the weight of the character leaving the window.
  let leaving = 1;
  for (let i = 1; i < MIN_NEEDLE; i += 1) leaving = (leaving * HASH_BASE) % HASH_MODULUS;
  let hash = gramHash(haystack, 0);
  for (let start = 0; ; start += 1) {
    const candidates = byStart.get(hash);
    if (candidates !== undefined) {
      for (const needle of candidates) {
        if (!present.has(needle) && haystack.startsWith(needle, start)) present.add(needle);
      }
    }
    const end = start + MIN_NEEDLE;
    if (end >= haystack.length) break;
    const out = (haystack.charCodeAt(start) * leaving) % HASH_MODULUS;
    hash =
      (((hash - out + HASH_MODULUS) % HASH_MODULUS) * HASH_BASE + haystack.charCodeAt(end)) % HASH_MODULUS;
  }
  return present;
}

/** From this length on, the needles are searched for in one pass (below it, one search each is cheaper). */
const ONE_PASS_FROM = 100_000;

export function findLeaks(texts: readonly string[], secrets: readonly string[], clientId?: string): Leak[] {
  const haystack = searchCorpus(texts).join(SEPARATOR);
  const needlesBySecret = secrets.map((secret) => needlesOf(secret, clientId));
  // Every needle and both of its ends, searched for at once; the cuts in between only for a needle whose
  // two ends are both there.
  const present =
    haystack.length < ONE_PASS_FROM
      ? undefined
      : presentNeedles(
          haystack,
          needlesBySecret.flatMap((needles) =>
            needles.flatMap(({ needle }) => [needle, needle.slice(0, MIN_NEEDLE), needle.slice(-MIN_NEEDLE)]),
          ),
        );
  /** For a needle or one of its ends: the one-pass answer. */
  const has = (text: string) => (present === undefined ? haystack.includes(text) : present.has(text));
  /** For any text (the cuts were not searched for in the pass). */
  const found = (text: string) => present?.has(text) === true || haystack.includes(text);
  const leaks: Leak[] = [];
  needlesBySecret.forEach((needles, secretIndex) => {
    for (const { form, needle } of needles) {
      if (has(needle)) {
        leaks.push({ secretIndex, form });
        continue;
      }
      // Cut in two, each part anywhere: a secret split across two fields, or by a separator. (Two
      // searches rule it out for clean text; only a text holding both ends tries every cut.)
      if (needle.length < 2 * MIN_NEEDLE) continue;
      if (!has(needle.slice(0, MIN_NEEDLE)) || !has(needle.slice(-MIN_NEEDLE))) continue;
      for (let cut = MIN_NEEDLE; cut <= needle.length - MIN_NEEDLE; cut += 1) {
        if (found(needle.slice(0, cut)) && found(needle.slice(cut))) {
          leaks.push({ secretIndex, form: `${form} (split)` });
          break;
        }
      }
    }
  });
  return leaks;
}
