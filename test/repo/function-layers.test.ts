/**
 * The hexagon's import directions, read from the sources (regex over `import`/`export ... from`):
 * domain rules import only domain rules and the contract; the ports only domain types; the application
 * (use cases and the decorators around ports) never an adapter; adapters never the wiring. Every module
 * under `functions/` must be placed in a layer here, so a new one cannot slip past the rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

type Layer = 'contract' | 'domain' | 'ports' | 'app' | 'adapter' | 'entry';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../functions');

const LAYERS: Record<string, Layer> = {
  // Pure rules and types: no I/O.
  'client-config/budget-notes.ts': 'domain',
  'client-config/change-journal.ts': 'domain',
  'client-config/client-state.ts': 'domain',
  'client-config/destination-config.ts': 'domain',
  'client-config/deadline.ts': 'domain',
  'client-config/etag-key.ts': 'domain',
  'client-config/exact-json.ts': 'domain',
  'client-config/masking.ts': 'domain',
  'client-config/outside-change.ts': 'domain',
  'client-config/problems.ts': 'domain',
  'client-config/read-cache.ts': 'domain',
  'client-config/schemas.ts': 'domain',
  'client-config/state-item.ts': 'domain',
  'client-config/upstream-outcome.ts': 'domain',
  'client-config/journal-cursor.ts': 'domain',
  'client-config/upstream-text.ts': 'domain',
  'client-config/validation.ts': 'domain',
  'client-config/webhook-signature.ts': 'domain',
  'client-config/write-lock.ts': 'domain',
  'secret-rotation/rotation-state.ts': 'domain',
  // Every port, as types.
  'client-config/ports.ts': 'ports',
  // Use cases and what wraps a port (built from ports, never from an adapter).
  'client-config/abortable-sleep.ts': 'app',
  'client-config/client-reads.ts': 'app',
  'client-config/credentials.ts': 'app',
  'client-config/failure-summary.ts': 'app',
  'client-config/lease-lock.ts': 'app',
  'client-config/list-changes.ts': 'app',
  'client-config/shared-state.ts': 'app',
  'client-config/single-flight.ts': 'app',
  'client-config/time-limit.ts': 'app',
  'client-config/use-cases.ts': 'app',
  'client-config/webhook-secrets.ts': 'app',
  'secret-rotation/rotate.ts': 'app',
  // Adapters: AWS, HTTP, Lambda events, middy, Powertools, the environment.
  'client-config/affix-http.ts': 'adapter',
  'client-config/affix-response.ts': 'adapter',
  'client-config/app.ts': 'adapter',
  'client-config/budget-telemetry.ts': 'adapter',
  'client-config/changes-query.ts': 'adapter',
  'client-config/config.ts': 'adapter',
  'client-config/destination-telemetry.ts': 'adapter',
  'client-config/dynamodb-journal.ts': 'adapter',
  'client-config/dynamodb-state.ts': 'adapter',
  'client-config/dynamodb-write-lock.ts': 'adapter',
  'client-config/middlewares.ts': 'adapter',
  'client-config/observability.ts': 'adapter',
  'client-config/request-rules.ts': 'adapter',
  'client-config/responses.ts': 'adapter',
  'client-config/ssm-credentials.ts': 'adapter',
  'client-config/version-telemetry.ts': 'adapter',
  'client-config/webhook-body.ts': 'adapter',
  'secret-rotation/config.ts': 'adapter',
  'secret-rotation/ssm-secret-store.ts': 'adapter',
  'secret-rotation/verify-secret.ts': 'adapter',
  'synthetic-caller/check.ts': 'adapter',
  // Entry points and the wiring of production ports.
  'client-config/handler.ts': 'entry',
  'client-config/wiring.ts': 'entry',
  'secret-rotation/handler.ts': 'entry',
  'secret-rotation/job.ts': 'entry',
  'synthetic-caller/handler.ts': 'entry',
};

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

function layerOf(module: string): Layer | undefined {
  return module.startsWith('contract/') ? 'contract' : LAYERS[module];
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

  it('reads the imports it judges', () => {
    expect(imports("import type { A } from './a.ts';\nexport { b } from '../b.ts';\nimport 'c';\n")).toEqual([
      './a.ts',
      '../b.ts',
      'c',
    ]);
  });
});
