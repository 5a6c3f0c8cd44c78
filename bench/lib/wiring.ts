/**
 * Compares the wiring of two Lambda entry files, so the bench-only entry without the write lock
 * cannot drift from the real one: their top-level statements (comments and imports left out) must be
 * the same but for the ones named as the lock's.
 *
 * @example
 * wiringStatements(source, ['dynamodb', 'writeLock']); // ['const config = loadConfig(process.env);', ...]
 */
import ts from 'typescript';

/** The variable names a statement declares, or `[]`. */
function declaredNames(statement: ts.Statement): string[] {
  if (!ts.isVariableStatement(statement)) return [];
  return statement.declarationList.declarations.flatMap((declaration) =>
    ts.isIdentifier(declaration.name) ? [declaration.name.text] : [],
  );
}

/**
 * Every top-level statement of `source` but imports and those declaring a name in `omit`, printed
 * without comments in one canonical layout.
 */
export function wiringStatements(source: string, omit: readonly string[]): string[] {
  const file = ts.createSourceFile('entry.ts', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const printer = ts.createPrinter({ removeComments: true });
  return file.statements
    .filter((statement) => !ts.isImportDeclaration(statement))
    .filter((statement) => !declaredNames(statement).some((name) => omit.includes(name)))
    .map((statement) => printer.printNode(ts.EmitHint.Unspecified, statement, file).replace(/\s+/g, ' '));
}

/** The module specifiers a file imports, by file name (`../x/app.ts` and `./app.ts` are both `app.ts`). */
export function importedModules(source: string): string[] {
  const file = ts.createSourceFile('entry.ts', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  return file.statements
    .filter(ts.isImportDeclaration)
    .map((statement) => (statement.moduleSpecifier as ts.StringLiteral).text)
    .map((specifier) => (specifier.startsWith('.') ? (specifier.split('/').pop() ?? specifier) : specifier))
    .sort();
}
