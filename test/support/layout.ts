/**
 * The test layout rule (test/README.md): a unit test file mirrors the source module it tests.
 * `test/unit/<dir>/<name>.test.ts` tests `<dir>/<name>.ts` (or `.mjs`); a second file for one module
 * names its aspect, `test/unit/<dir>/<name>.<aspect>.test.ts` (e.g. `urls.consumers.test.ts`).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

export const UNIT_DIR = 'test/unit';
export const SOURCE_EXTENSIONS = ['.ts', '.mjs'] as const;

/** Folders that hold no source of ours. */
const NOT_SOURCE = new Set(['node_modules', 'dist', 'cdk.out', 'coverage']);

/**
 * The module paths (relative to the repository) a unit test file may mirror, best match first;
 * empty when the path is not a unit test file at all.
 */
export function mirroredModuleCandidates(testFile: string): string[] {
  const path = testFile.split(sep).join(posix.sep);
  if (!path.startsWith(`${UNIT_DIR}/`) || !path.endsWith('.test.ts')) return [];
  const stem = path.slice(UNIT_DIR.length + 1, -'.test.ts'.length);
  const dir = posix.dirname(stem);
  const name = posix.basename(stem);
  const names = [name];
  const dot = name.indexOf('.');
  if (dot > 0) names.push(name.slice(0, dot));
  return names.flatMap((base) =>
    SOURCE_EXTENSIONS.map((extension) => (dir === '.' ? base : `${dir}/${base}`) + extension),
  );
}

/** The source module `testFile` mirrors in the repository at `root`, or undefined if none exists. */
export function mirroredModule(root: string, testFile: string): string | undefined {
  return mirroredModuleCandidates(testFile).find((candidate) => existsSync(join(root, candidate)));
}

/** Files under `dir` (relative to `root`, with `/`), recursively, that `keep` accepts. */
export function filesUnder(root: string, dir: string, keep: (path: string) => boolean): string[] {
  const absolute = join(root, dir);
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute).flatMap((name) => {
    const path = join(absolute, name);
    const relativePath = relative(root, path).split(sep).join(posix.sep);
    if (statSync(path).isDirectory()) return NOT_SOURCE.has(name) ? [] : filesUnder(root, relativePath, keep);
    return keep(relativePath) ? [relativePath] : [];
  });
}

/** Every unit test file of the repository. */
export const unitTestFiles = (root: string): string[] =>
  filesUnder(root, UNIT_DIR, (path) => path.endsWith('.test.ts'));

/** Source modules under `dir`: `.ts` and `.mjs` files, declaration files left out. */
export const sourceModules = (root: string, dir: string): string[] =>
  filesUnder(
    root,
    dir,
    (path) => SOURCE_EXTENSIONS.some((extension) => path.endsWith(extension)) && !path.endsWith('.d.ts'),
  );

/** The source modules under `dir` that no unit test file mirrors. */
export function modulesWithoutUnitTest(root: string, dir: string): string[] {
  const tested = new Set(unitTestFiles(root).map((file) => mirroredModule(root, file)));
  return sourceModules(root, dir).filter((module) => !tested.has(module));
}
