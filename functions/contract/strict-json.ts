/**
 * Request bodies held to I-JSON (RFC 7493): UTF-8 that decodes without substitution, and no name
 * twice in one object. `JSON.parse` does neither: it keeps the last of two equal keys (so a check of
 * the first and a reader of the last see different values), and a lossy decoder turns bad bytes into
 * U+FFFD that then reaches Affix. Pure: no AWS or Node imports.
 *
 * @example
 * decodeUtf8Strictly(new Uint8Array([0x7b, 0xff, 0x7d])); // undefined
 * scanJson('{"a":1,"b":{"c":2,"c":3}}'); // { ok: false, reason: 'duplicate-key', key: 'c', pointer: '/b/c' }
 */

// `ignoreBOM`: a byte order mark stays in the text, where JSON.parse refuses it as before.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of UTF-8 bytes, or undefined when they are not UTF-8 (overlong forms and surrogates included). */
export function decodeUtf8Strictly(bytes: Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Whether a string has an unpaired surrogate: no UTF-8 byte sequence decodes to one. */
export function hasLoneSurrogate(text: string): boolean {
  return /\p{Cs}/u.test(text);
}

export type JsonScan =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'syntax' }
  /** The first repeated key in document order; `pointer` (RFC 6901) is its second occurrence. */
  | { readonly ok: false; readonly reason: 'duplicate-key'; readonly key: string; readonly pointer: string };

type Container =
  | { readonly kind: 'object'; readonly pointer: string; readonly keys: Set<string>; key: string }
  | { readonly kind: 'array'; readonly pointer: string; index: number };

/** RFC 6901: `~` and `/` inside a key are escaped. */
export function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * One pass over JSON text (RFC 8259 grammar, as `JSON.parse` reads it), with an explicit stack (no
 * recursion, so any nesting is safe): whether it is JSON, and the first key repeated within one
 * object, compared after unescaping (`"a"` and `"\u0061"` are the same key). A text that is not JSON
 * is `syntax` even when it also repeats a key.
 */
export function scanJson(text: string): JsonScan {
  const length = text.length;
  let at = 0;
  const stack: Container[] = [];
  let duplicate: { key: string; pointer: string } | undefined;

  const skipWhitespace = () => {
    while (at < length) {
      const code = text.charCodeAt(at);
      if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return;
      at += 1;
    }
  };

  /** At a `"`: the unescaped string, `at` after its closing quote; undefined when it is not one. */
  const readString = (): string | undefined => {
    if (text.charCodeAt(at) !== 0x22) return undefined;
    at += 1;
    let value = '';
    let runStart = at;
    while (at < length) {
      const code = text.charCodeAt(at);
      if (code === 0x22) {
        value += text.slice(runStart, at);
        at += 1;
        return value;
      }
      if (code < 0x20) return undefined;
      if (code === 0x5c) {
        value += text.slice(runStart, at);
        const escaped = text.charAt(at + 1);
        if (escaped === 'u') {
          const hex = text.slice(at + 2, at + 6);
          if (!HEX4.test(hex)) return undefined;
          value += String.fromCharCode(Number.parseInt(hex, 16));
          at += 6;
        } else {
          const replacement = SIMPLE_ESCAPES[escaped];
          if (replacement === undefined) return undefined;
          value += replacement;
          at += 2;
        }
        runStart = at;
        continue;
      }
      at += 1;
    }
    return undefined;
  };

  /** A string, number, `true`, `false` or `null` at `at`. */
  const readScalar = (): boolean => {
    if (text.charCodeAt(at) === 0x22) return readString() !== undefined;
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, at)) {
        at += literal.length;
        return true;
      }
    }
    NUMBER.lastIndex = at;
    if (!NUMBER.test(text)) return false;
    at = NUMBER.lastIndex;
    return true;
  };

  /** An object's key and its `:`; records the first repeated key. */
  const readKey = (object: Extract<Container, { kind: 'object' }>): boolean => {
    skipWhitespace();
    const key = readString();
    if (key === undefined) return false;
    skipWhitespace();
    if (text.charCodeAt(at) !== 0x3a) return false;
    at += 1;
    if (object.keys.has(key)) {
      duplicate ??= { key, pointer: `${object.pointer}/${pointerToken(key)}` };
    } else {
      object.keys.add(key);
    }
    object.key = key;
    return true;
  };

  /** Where a value now starting sits: below the innermost container's current key or index. */
  const childPointer = (): string => {
    const parent = stack.at(-1);
    if (parent === undefined) return '';
    const token = parent.kind === 'object' ? pointerToken(parent.key) : String(parent.index);
    return `${parent.pointer}/${token}`;
  };

  let expectValue = true;
  for (;;) {
    skipWhitespace();
    const parent = stack.at(-1);
    if (expectValue) {
      const code = text.charCodeAt(at);
      if (code === 0x7b || code === 0x5b) {
        const pointer = childPointer();
        at += 1;
        skipWhitespace();
        if (text.charCodeAt(at) === (code === 0x7b ? 0x7d : 0x5d)) {
          at += 1;
          expectValue = false;
          continue;
        }
        if (code === 0x5b) {
          stack.push({ kind: 'array', pointer, index: 0 });
          continue;
        }
        const object: Container = { kind: 'object', pointer, keys: new Set(), key: '' };
        stack.push(object);
        if (!readKey(object)) return { ok: false, reason: 'syntax' };
        continue;
      }
      if (!readScalar()) return { ok: false, reason: 'syntax' };
      expectValue = false;
      continue;
    }
    if (parent === undefined) break;
    const code = text.charCodeAt(at);
    if (code === 0x2c) {
      at += 1;
      if (parent.kind === 'array') parent.index += 1;
      else if (!readKey(parent)) return { ok: false, reason: 'syntax' };
      expectValue = true;
    } else if (code === (parent.kind === 'object' ? 0x7d : 0x5d)) {
      at += 1;
      stack.pop();
    } else {
      return { ok: false, reason: 'syntax' };
    }
  }
  skipWhitespace();
  if (at !== length) return { ok: false, reason: 'syntax' };
  return duplicate === undefined ? { ok: true } : { ok: false, reason: 'duplicate-key', ...duplicate };
}

const MAX_SHOWN_KEY_LENGTH = 100;

/**
 * A key as it may appear in a problem's detail or a log: quoted, anything outside printable ASCII
 * (controls, bidi overrides, line separators) as `\uXXXX`, at most 100 characters.
 */
export function printableKey(key: string): string {
  let shown = '';
  for (let index = 0; index < Math.min(key.length, MAX_SHOWN_KEY_LENGTH); index += 1) {
    const code = key.charCodeAt(index);
    const plain = code >= 0x20 && code <= 0x7e && code !== 0x22 && code !== 0x5c;
    shown += plain ? key.charAt(index) : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `"${shown}${key.length > MAX_SHOWN_KEY_LENGTH ? '…' : ''}"`;
}
