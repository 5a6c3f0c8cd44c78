/**
 * The hexagon's import directions, read from the sources (regex over `import`/`export ... from`).
 * A module's layer is the folder it lives in: `core/domain` (pure rules and types, no I/O) imports
 * only the domain and the contract; `core/ports.ts` (every port, as types) only domain types;
 * `core/app` (use cases and what wraps a port) never an adapter; `core/adapters` (AWS, HTTP, Lambda
 * events, middy, Powertools, the environment) never an entry point; each function's folder holds its
 * entry points and their wiring. A module anywhere else under `functions/` fails the placement test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

type Layer = 'contract' | 'domain' | 'ports' | 'app' | 'adapter' | 'entry';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../functions');

/** The folders of the shared core, each one layer. */
const CORE_LAYERS: ReadonlyArray<readonly [prefix: string, layer: Layer]> = [
  ['core/domain/', 'domain'],
  ['core/ports.ts', 'ports'],
  ['core/app/', 'app'],
  ['core/adapters/', 'adapter'],
];

/** The functions whose folders hold entry points (and the wiring of production ports). */
const ENTRY_FOLDERS = ['client-config/', 'secret-rotation/', 'synthetic-caller/'];

/** What each layer may import from `functions/`, and which packages. */
const ALLOWED: Record<Layer, { layers: Layer[]; packages: RegExp }> = {
  contract: { layers: ['contract'], packages: /^$/ },
  domain: { layers: ['contract', 'domain'], packages: /^(valibot|node:crypto)$/ },
  ports: { layers: ['contract', 'domain'], packages: /^$/ },
  app: { layers: ['contract', 'domain', 'ports', 'app'], packages: /^node:(crypto|timers\/promises)$/ },
  adapter: { layers: ['contract', 'domain', 'ports', 'app', 'adapter'], packages: /./ },
  entry: { layers: ['contract', 'domain', 'ports', 'app', 'adapter', 'entry'], packages: /./ },
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [relative(ROOT, path)] : [];
  });
}

/** The layer of a module (a path under `functions/`): where it lives. */
function layerOf(module: string): Layer | undefined {
  if (module.startsWith('contract/')) return 'contract';
  const core = CORE_LAYERS.find(([prefix]) =>
    prefix.endsWith('/') ? module.startsWith(prefix) : module === prefix,
  );
  if (core !== undefined) return core[1];
  return ENTRY_FOLDERS.some(
    (folder) => module.startsWith(folder) && !module.slice(folder.length).includes('/'),
  )
    ? 'entry'
    : undefined;
}

/** Every specifier of `import ... from`, `import '...'` and `export ... from`. */
function imports(text: string): string[] {
  const pattern = /^(?:import|export)\s+(?:[\w\s{},*$]*?\s*from\s*)?['"]([^'"]+)['"]/gm;
  return [...text.matchAll(pattern)].map((match) => match[1] ?? '');
}

describe('import directions of functions/', () => {
  // Another team's function (it has its own rules) is not part of this hexagon.
  const modules = sources(ROOT).filter((module) => !module.startsWith('deploy-check/'));

  it('places every module in a layer', () => {
    expect(modules.filter((module) => layerOf(module) === undefined)).toEqual([]);
  });

  it('imports only what its layer may', () => {
    const violations: string[] = [];
    for (const module of modules) {
      const layer = layerOf(module);
      if (layer === undefined) continue;
      for (const specifier of imports(readFileSync(join(ROOT, module), 'utf8'))) {
        if (!specifier.startsWith('.')) {
          if (!ALLOWED[layer].packages.test(specifier))
            violations.push(`${module} (${layer}) imports ${specifier}`);
          continue;
        }
        const target = relative(ROOT, resolve(ROOT, dirname(module), specifier));
        if (target.startsWith('..')) {
          // Outside functions/ (the typed client): adapters and entries only.
          if (layer !== 'adapter' && layer !== 'entry')
            violations.push(`${module} (${layer}) imports ${target}`);
          continue;
        }
        const targetLayer = layerOf(target);
        if (targetLayer === undefined || !ALLOWED[layer].layers.includes(targetLayer)) {
          violations.push(`${module} (${layer}) imports ${target} (${targetLayer ?? 'unplaced'})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('takes the layer from the folder', () => {
    expect(
      [
        'core/domain/a.ts',
        'core/ports.ts',
        'core/app/a.ts',
        'core/adapters/a.ts',
        'client-config/handler.ts',
      ].map(layerOf),
    ).toEqual(['domain', 'ports', 'app', 'adapter', 'entry']);
    expect(['core/a.ts', 'core/domain.ts', 'client-config/nested/a.ts', 'other/a.ts'].map(layerOf)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('reads the imports it judges', () => {
    expect(imports("import type { A } from './a.ts';\nexport { b } from '../b.ts';\nimport 'c';\n")).toEqual([
      './a.ts',
      '../b.ts',
      'c',
    ]);
  });
});
