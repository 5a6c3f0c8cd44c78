/**
 * Compares the wiring of two Lambda entry files, so the bench-only entry without the write lock
 * cannot drift from the real one: their top-level statements (comments and imports left out) must be
 * the same but for the ones named as the lock's.
 *
 * Parsed with oxc (rolldown's `parseSync`, which keeps TypeScript syntax and reports every comment's
 * span): the TypeScript compiler API is not there to print the statements.
 *
 * @example
 * wiringStatements(source, ['dynamodb', 'writeLock']); // ['const config = loadConfig(process.env);', ...]
 */
import type { Node, Program, Statement } from '@oxc-project/types';
import { type ParseResult, parseSync } from 'rolldown/utils';

type Comment = ParseResult['comments'][number];

interface Parsed {
  program: Program;
  comments: Comment[];
}

/** The entry's syntax tree and comments; a syntax error throws rather than comparing half a file. */
function parse(source: string): Parsed {
  const { program, comments, errors } = parseSync('entry.ts', source, { lang: 'ts', sourceType: 'module' });
  if (errors.length > 0) throw new Error(`entry does not parse: ${errors.map((e) => e.message).join('; ')}`);
  return { program, comments };
}

/** The variable names a top-level statement declares (`export const` too), or `[]`. */
function declaredNames(statement: Statement): string[] {
  const declaration = statement.type === 'ExportNamedDeclaration' ? statement.declaration : statement;
  if (declaration?.type !== 'VariableDeclaration') return [];
  return declaration.declarations.flatMap((declarator) =>
    declarator.id.type === 'Identifier' ? [declarator.id.name] : [],
  );
}

/** The spans of string and template text under `node`, which layout rules must leave alone. */
function literalSpans(node: unknown, spans: [number, number][] = []): [number, number][] {
  if (Array.isArray(node)) {
    for (const child of node) literalSpans(child, spans);
  } else if (typeof node === 'object' && node !== null) {
    const { type, start, end } = node as Partial<Node> & { type?: string };
    const isText =
      (type === 'Literal' && typeof (node as { value?: unknown }).value === 'string') ||
      type === 'TemplateElement';
    if (isText && start !== undefined && end !== undefined) spans.push([start, end]);
    else for (const child of Object.values(node)) literalSpans(child, spans);
  }
  return spans;
}

/**
 * A statement's code in one canonical layout: comments out, whitespace runs as one space, no padding
 * inside `(` `)` `[` `]` and no trailing comma before a closing bracket, so a formatter's choice of
 * one line or several does not count as a difference. String and template text stays as written.
 */
function canonical(source: string, statement: Statement, comments: readonly Comment[]): string {
  const cuts = [
    ...comments
      .filter((comment) => comment.start >= statement.start && comment.end <= statement.end)
      .map((comment) => ({ start: comment.start, end: comment.end, literal: false })),
    ...literalSpans(statement).map(([start, end]) => ({ start, end, literal: true })),
  ].sort((a, b) => a.start - b.start);
  let code = '';
  let at = statement.start;
  const layout = (text: string) =>
    text
      .replace(/\s+/g, ' ')
      .replace(/,\s*([)\]}])/g, ' $1')
      .replace(/([([])\s+/g, '$1')
      .replace(/\s+([)\]])/g, '$1');
  let pending = '';
  for (const cut of cuts) {
    if (cut.start < at) continue;
    // A comment is a gap in the code: the code around it is laid out as one piece, the comment as a space.
    pending += `${source.slice(at, cut.start)}${cut.literal ? '' : ' '}`;
    if (cut.literal) {
      code += `${layout(pending)}${source.slice(cut.start, cut.end)}`;
      pending = '';
    }
    at = cut.end;
  }
  code += layout(`${pending}${source.slice(at, statement.end)}`);
  return code.trim();
}

/**
 * Every top-level statement of `source` but imports and those declaring a name in `omit`, without
 * comments, in one canonical layout.
 */
export function wiringStatements(source: string, omit: readonly string[]): string[] {
  const { program, comments } = parse(source);
  return program.body
    .filter((statement) => statement.type !== 'ImportDeclaration')
    .filter((statement) => !declaredNames(statement).some((name) => omit.includes(name)))
    .map((statement) => canonical(source, statement, comments));
}

/** The module specifiers a file imports, by file name (`../x/app.ts` and `./app.ts` are both `app.ts`). */
export function importedModules(source: string): string[] {
  return parse(source)
    .program.body.flatMap((statement) =>
      statement.type === 'ImportDeclaration' ? [statement.source.value] : [],
    )
    .map((specifier) => (specifier.startsWith('.') ? (specifier.split('/').pop() ?? specifier) : specifier))
    .sort();
}
