/**
 * A fresh, empty npm project that installs the packed client the way a caller would (`npm ci` of a lock
 * file naming the tarball), with no network: the lock lists exactly the dependencies the client's
 * package.json declares and their own, at the versions and integrity hashes of this repository's lock, so npm takes every
 * tarball from the local cache (`npm ci` of this repository put them there). A dependency the client
 * uses but does not declare is therefore missing in the consumer, as it would be for a real caller.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

interface Lock {
  packages: Record<string, LockEntry>;
}

/** Where Node would find `name` from the package at `from` (a lock key), walking up `node_modules`. */
function resolveFrom(packages: Lock['packages'], from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const key = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
    const entry = packages[key];
    if (entry !== undefined && entry.link !== true) return key;
    if (base === '') return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent < 0 ? '' : base.slice(0, parent);
  }
}

/** The lock entries of `deps` and everything they depend on, as this repository's lock has them. */
function closure(packages: Lock['packages'], from: string, deps: Record<string, string>) {
  const entries: Record<string, LockEntry> = {};
  const visit = (owner: string, names: Record<string, string> | undefined) => {
    for (const name of Object.keys(names ?? {})) {
      const key = resolveFrom(packages, owner, name);
      if (key === undefined) throw new Error(`${name} (needed by ${owner || 'the root'}) is not in the lock`);
      if (key.startsWith(`${from}/`)) throw new Error(`${key}: nested under the workspace, not handled`);
      if (entries[key] !== undefined) continue;
      const { dev: _dev, ...entry } = packages[key] as LockEntry;
      entries[key] = entry;
      visit(key, entry.dependencies);
      visit(key, entry.optionalDependencies);
    }
  };
  visit(from, deps);
  return entries;
}

export interface ConsumerFiles {
  'package.json': string;
  'package-lock.json': string;
}

/**
 * `package.json` and `package-lock.json` of a consumer of the tarball, plus `devDependencies` (such as
 * `@types/node` for a TypeScript consumer) at the versions the repository uses.
 */
export function consumerProject(
  repoLockPath: string,
  /** The workspace folder, relative to the repository (its lock key), e.g. `clients`. */
  workspace: string,
  packageName: string,
  tarball: string,
  devDependencies: readonly string[],
): ConsumerFiles {
  const { packages } = JSON.parse(readFileSync(repoLockPath, 'utf8')) as Lock;
  const manifestPath = join(dirname(repoLockPath), workspace, 'package.json');
  const client = JSON.parse(readFileSync(manifestPath, 'utf8')) as LockEntry;
  const dev = Object.fromEntries(
    devDependencies.map((name) => [name, packages[`node_modules/${name}`]?.version ?? '']),
  );
  const manifest = {
    name: 'consumer',
    private: true,
    type: 'module',
    dependencies: { [packageName]: `file:${tarball}` },
    devDependencies: dev,
  };
  const lock = {
    name: 'consumer',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'consumer', dependencies: manifest.dependencies, devDependencies: dev },
      [`node_modules/${packageName}`]: {
        version: client.version ?? '0.0.0',
        resolved: `file:${tarball}`,
        dependencies: client.dependencies ?? {},
      },
      ...closure(packages, workspace, client.dependencies ?? {}),
      ...closure(packages, '', dev),
    },
  };
  return {
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'package-lock.json': `${JSON.stringify(lock, null, 2)}\n`,
  };
}
