/**
 * Which of Affix's own words may reach a caller. Pure and synchronous.
 *
 * Affix 400 messages may repeat what we sent (secrets, our Basic credentials) in forms nobody can list
 * in advance, so nothing is scrubbed out of them. Instead the text is passed on whole or not at all:
 * only when no run of {@link RUN_LENGTH} characters in it, read the ways a secret could be hidden
 * (separators removed and case folded; URL-encoding, `\uXXXX`, `\/` and HTML entities decoded), equals
 * a run of any encoding of any secret we know (raw, reversed, hex, Base64 and base64url at every
 * alignment, URL-encoded, JSON-escaped; with the client id also the Basic credential `id:secret` and its
 * Base64). Otherwise the caller learns only which of our field names Affix mentioned.
 *
 * @example
 * const view = judgeUpstreamText({ message: 'name too long' }, { secrets: [secret], clientId });
 * // { kind: 'words', text: 'name too long' }
 */
import { SECRET_RUN_LENGTH } from '../../contract/limits.ts';

import { boundedText } from '../../contract/text.ts';

/** The length of the runs compared: long enough to keep ordinary words apart from random secrets. */
export const RUN_LENGTH = SECRET_RUN_LENGTH;
/** The field names a withheld message is searched for; nothing else of it is passed on. */
export const FLAGGABLE_FIELDS = ['name', 'webhook_uri', 'redirect_uris', 'client_secret'] as const;
export type FlaggableField = (typeof FLAGGABLE_FIELDS)[number];

export interface UpstreamMessage {
  message?: string | undefined;
  validationError?: string | undefined;
}

export interface KnownSecrets {
  /** Every secret we know: ours, those we sent, those of the client we read before. */
  secrets: readonly string[];
  /** With the client id, `id:secret` (the Basic credential) of each secret is forbidden too. */
  clientId?: string | undefined;
}

/** What a caller may see: Affix's words, or only the names of the fields it mentioned. */
export type UpstreamTextView =
  | { kind: 'words'; text: string }
  | { kind: 'withheld'; fields: readonly FlaggableField[] }
  | { kind: 'none' };

// ---------------------------------------------------------------------------------------------------
// Reading text the ways a secret could be hidden in it.
// ---------------------------------------------------------------------------------------------------

/** HTML's names for the ASCII punctuation a secret may hold (a letter or digit has no named entity). */
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  excl: '!',
  quot: '"',
  num: '#',
  dollar: '$',
  percnt: '%',
  amp: '&',
  apos: "'",
  lpar: '(',
  rpar: ')',
  ast: '*',
  midast: '*',
  plus: '+',
  comma: ',',
  period: '.',
  sol: '/',
  colon: ':',
  semi: ';',
  lt: '<',
  equals: '=',
  gt: '>',
  quest: '?',
  commat: '@',
  lsqb: '[',
  lbrack: '[',
  bsol: '\\',
  rsqb: ']',
  rbrack: ']',
  hat: '^',
  lowbar: '_',
  grave: '`',
  lcub: '{',
  lbrace: '{',
  verbar: '|',
  vert: '|',
  rcub: '}',
  rbrace: '}',
  tilde: '~',
  nbsp: ' ',
};

function fromCodePoint(code: number, fallback: string): string {
  return Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : fallback;
}

/** Runs of `%XX` as UTF-8 bytes (invalid sequences become U+FFFD rather than failing the whole text). */
function decodePercent(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) =>
    Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'),
  );
}

/** One round of undoing the obvious escapes: URL-encoding, `\uXXXX`, `\xXX`, `\/` and friends, HTML entities. */
function decodeOnce(text: string): string {
  return decodePercent(text)
    .replace(/\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})/g, (all, braced, u, x) =>
      fromCodePoint(Number.parseInt(braced ?? u ?? x, 16), all),
    )
    .replace(/\\([\\/"'])/g, '$1')
    .replace(/&#[xX]([0-9a-fA-F]{1,6});?|&#(\d{1,7});?|&([a-zA-Z]{2,8});/g, (all, hex, decimal, name) => {
      if (hex !== undefined) return fromCodePoint(Number.parseInt(hex, 16), all);
      if (decimal !== undefined) return fromCodePoint(Number.parseInt(decimal, 10), all);
      return NAMED_ENTITIES[String(name).toLowerCase()] ?? all;
    });
}

/** The text and each successively decoded version of it (double encodings too), up to a few rounds. */
function decodedVariants(text: string): string[] {
  const variants = [text];
  let current = text;
  for (let round = 0; round < 4; round += 1) {
    const next = decodeOnce(current);
    if (next === current) break;
    variants.push(next);
    current = next;
  }
  return variants;
}

const NOT_ALPHANUMERIC = /[^a-z0-9]+/g;
const INVISIBLE_OR_SPACE = /[\p{White_Space}\p{C}\p{M}\p{Default_Ignorable_Code_Point}]+/gu;

/**
 * The two readings compared: letters and digits only (separators, zero-width characters and the like
 * gone), and every visible character (for secrets made mostly of punctuation). Both case folded, after
 * compatibility decomposition (full-width letters read as ASCII, accents as separate marks).
 */
function readings(text: string): [string, string] {
  const folded = text.normalize('NFKD').toLowerCase();
  return [folded.replace(NOT_ALPHANUMERIC, ''), folded.replace(INVISIBLE_OR_SPACE, '')];
}

// ---------------------------------------------------------------------------------------------------
// The runs no passed-on text may contain.
// ---------------------------------------------------------------------------------------------------

/**
 * The Base64 characters that depend only on `bytes` when they start `shift` bytes into a longer
 * encoded text: the leading characters mix in the bytes before, the last one the bytes after.
 */
function base64Core(bytes: Buffer, shift: number): string {
  const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
  const start = Math.ceil((shift * 8) / 6);
  const end = Math.floor(((shift + bytes.length) * 8) / 6);
  return encoded.slice(start, end);
}

/** Every encoding of `value` that the decoding of {@link decodedVariants} does not already undo. */
function encodingsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = [
    value,
    [...value].reverse().join(''),
    bytes.toString('hex'),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
  ];
  for (const shift of [0, 1, 2]) {
    const core = base64Core(bytes, shift);
    forms.push(core, core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return forms;
}

function addRuns(reading: string, into: Set<string>): void {
  for (let index = 0; index + RUN_LENGTH <= reading.length; index += 1) {
    into.add(reading.slice(index, index + RUN_LENGTH));
  }
}

function containsRun(reading: string, forbidden: ReadonlySet<string>): boolean {
  for (let index = 0; index + RUN_LENGTH <= reading.length; index += 1) {
    if (forbidden.has(reading.slice(index, index + RUN_LENGTH))) return true;
  }
  return false;
}

/** The forbidden runs, or `undefined` when some secret is too short to be told apart by runs at all. */
function forbiddenRuns(known: KnownSecrets): Set<string> | undefined {
  const runs = new Set<string>();
  const values = new Set<string>();
  for (const secret of known.secrets) {
    if (secret === '') continue;
    if (readings(secret)[1].length < RUN_LENGTH) return undefined;
    values.add(secret);
    if (known.clientId !== undefined) values.add(`${known.clientId}:${secret}`);
  }
  for (const value of values) {
    for (const form of encodingsOf(value)) for (const reading of readings(form)) addRuns(reading, runs);
  }
  return runs;
}

/** Where `head` meets `tail` when joined, with room for escaped characters on both sides. */
const SEAM_WIDTH = 16 * RUN_LENGTH;
function seam(head: string, tail: string): string {
  return head.slice(-SEAM_WIDTH) + tail.slice(0, SEAM_WIDTH);
}

function mentionedFields(texts: readonly string[]): FlaggableField[] {
  const haystack = texts.join('\n').toLowerCase();
  return FLAGGABLE_FIELDS.filter((field) => new RegExp(`(?<![a-z0-9_])${field}(?![a-z0-9_])`).test(haystack));
}

/**
 * Affix's `message` and `validation_error`, as a caller may see them. The words are passed on (joined
 * with `: `, made plain by {@link boundedText}) only when neither field, nor both joined, nor the text
 * passed on contains a forbidden run in any reading.
 */
export function judgeUpstreamText(upstream: UpstreamMessage, known: KnownSecrets): UpstreamTextView {
  const parts = [upstream.message, upstream.validationError].filter(
    (part): part is string => typeof part === 'string' && part.trim() !== '',
  );
  if (parts.length === 0) return { kind: 'none' };
  const text = boundedText(parts.join(': '));
  // What would be passed on, each field alone, and the seams of both joined either way (a secret split
  // across them): wide enough for a run spelled in the longest escapes.
  const [first = '', second = ''] = parts;
  const candidates = new Set([text, ...parts, seam(first, second), seam(second, first)]);
  const variants = [...candidates].flatMap(decodedVariants);
  const forbidden = forbiddenRuns(known);
  const leaks =
    forbidden === undefined ||
    variants.some((variant) => readings(variant).some((reading) => containsRun(reading, forbidden)));
  if (!leaks) return text === '' ? { kind: 'none' } : { kind: 'words', text };
  return { kind: 'withheld', fields: mentionedFields(variants) };
}
