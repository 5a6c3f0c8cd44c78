/**
 * JSON that keeps what we do not model exactly: a parse that keeps the source text of every number a
 * JS number cannot hold (big integers, `1.50`, `1e400`), and a canonical serialization (sorted keys)
 * for hashing.
 *
 * Node 22's `JSON.parse` gives a reviver the source text of each primitive, and `JSON.stringify`
 * writes a `JSON.rawJSON` value verbatim, so such numbers survive parse and stringify unchanged.
 *
 * @example
 * const value = parseJsonKeepingNumbers('{"id":12345678901234567890}');
 * JSON.stringify(value); // '{"id":12345678901234567890}'
 */

/** A value `JSON.stringify` writes as its `rawJSON` text (ES2025; TypeScript 5.9 has no typing yet). */
interface RawJson {
  readonly rawJSON: string;
}

interface JsonWithSource {
  parse(
    text: string,
    reviver: (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
  rawJSON(text: string): RawJson;
  isRawJSON(value: unknown): value is RawJson;
}

const json = JSON as unknown as JsonWithSource;

/** `JSON.parse`, except that a number whose text a JS number would change keeps its text. */
export function parseJsonKeepingNumbers(text: string): unknown {
  return json.parse(text, (_key, value, context) =>
    typeof value === 'number' && context.source !== undefined && JSON.stringify(value) !== context.source
      ? json.rawJSON(context.source)
      : value,
  );
}

/**
 * One serialization per JSON value: object keys sorted (by UTF-16 code units), no whitespace, kept
 * numbers as their source text. Two parses of the same JSON, whatever their key order, give the same
 * string. Only takes what {@link parseJsonKeepingNumbers} returns; anything else is a bug.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: not a JSON number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (json.isRawJSON(value)) return value.rawJSON;
  if (typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: not a JSON value (${typeof value})`);
}
