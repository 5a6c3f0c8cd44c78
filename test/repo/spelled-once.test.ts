/**
 * Grep-ability: a route's method and path are spelled in the route table only, and the
 * problem catalogue's fields (status, when text) only in the contract. Checked over every part's code
 * (scripts/, functions/, local/, clients/, infra/; bench/ and test/load/ are the load bench's);
 * comments do not count, test files are not scanned.
 *
 * No file is allowed a spelling: the handler dispatches by operation id, the client, the CDK stack,
 * the throttles and the synthetic caller take routes from the table (`routeOf`, `routeKeyOf`). A path
 * written into a URL (`${api}/client`) counts; a path inside a longer one
 * (`/2023-03-01/management/client`) does not.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROBLEM_SLUGS, PROBLEMS } from '../../functions/contract/problems.ts';
import { ROUTES, routeKeyOf } from '../../functions/contract/routes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCANNED = ['scripts', 'functions', 'local', 'clients', 'infra'];
const ROUTE_TABLE = 'functions/contract/routes.ts';
const CATALOGUE = 'functions/contract/problems.ts';
const ALLOWED_ROUTE_SPELLINGS: ReadonlySet<string> = new Set([]);

/** Build output (the client package's `dist/`, left by its pack test) and dependencies are not source. */
const NOT_SOURCE = new Set(['dist', 'node_modules', 'cdk.out']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return NOT_SOURCE.has(name) ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** The file's code without comments (line and block comments; strings are kept). */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const files = SCANNED.flatMap((dir) => sourceFiles(join(ROOT, dir))).map((path) => ({
  name: relative(ROOT, path),
  code: code(path),
}));

/** The path as a whole URL path (`${api}/client` too), not inside a longer one (`/client-config`). */
const pathPattern = (path: string) =>
  new RegExp(`(?<![\\w/.-])${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w/-])`);

describe('spelled once', () => {
  it('finds the files it scans', () => {
    expect(files.map((file) => file.name)).toContain(ROUTE_TABLE);
    expect(files.length).toBeGreaterThan(40);
  });

  it.each(ROUTES.map((route) => [routeKeyOf(route), route] as const))(
    '%s: its key and its path are written in the route table only',
    (key, route) => {
      const spelled = files
        .filter((file) => !ALLOWED_ROUTE_SPELLINGS.has(file.name) && file.name !== ROUTE_TABLE)
        .filter((file) => file.code.includes(key) || pathPattern(route.path).test(file.code))
        .map((file) => file.name);
      expect(spelled).toEqual([]);
    },
  );

  it('has each when text in the catalogue only', () => {
    for (const slug of PROBLEM_SLUGS) {
      // A distinctive piece of the text: its first 30 characters, where they hold no interpolation.
      const piece = PROBLEMS[slug].when.slice(0, 30);
      const spelled = files
        .filter((file) => file.name !== CATALOGUE && file.code.includes(piece))
        .map((file) => file.name);
      expect(spelled, slug).toEqual([]);
    }
  });
});
