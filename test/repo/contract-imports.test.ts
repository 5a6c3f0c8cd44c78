/**
 * The contract ships inside the caller package (clients/), so it imports nothing but itself: no AWS
 * SDK, no Node built-ins, nothing from the function.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DIR = new URL('../../functions/contract/', import.meta.url);
const FILES = readdirSync(DIR).filter((name) => name.endsWith('.ts'));

describe('functions/contract', () => {
  it('has the modules the other parts import', () => {
    for (const name of ['routes.ts', 'problems.ts', 'limits.ts', 'gateway-responses.ts', 'telemetry.ts']) {
      expect(FILES).toContain(name);
    }
  });

  it.each(FILES)('%s imports only sibling contract modules', (name) => {
    const text = readFileSync(new URL(name, DIR), 'utf8');
    const specifiers = [...text.matchAll(/(?:^|\s)(?:import|export)\s[^;]*?from\s+'([^']+)'/g)].map(
      (match) => match[1],
    );
    for (const specifier of specifiers) expect(specifier, name).toMatch(/^\.\/[a-z-]+\.ts$/);
    expect(text).not.toMatch(/\bimport\(/);
    expect(text).not.toMatch(/\brequire\(/);
  });
});
