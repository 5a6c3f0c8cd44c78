/**
 * The bundled client-config handler the local pool can run instead of the TypeScript: built once per
 * process, importable by plain `node` (no tsx) with the local environment, and its folder removed when
 * the process exits; or built on its own (the concurrency project's global setup) and removed on demand.
 * The once-per-process bundle is left alone here: other files of this worker's module graph share it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BUNDLE_FILE_NAME } from '../../../infra/esbuild-options.ts';
import { buildHandlerBundle, bundledHandlerModule } from '../../../local/handler-bundle.ts';
import { localHandlerEnv } from '../../../local/handler-env.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('buildHandlerBundle', () => {
  it('builds a bundle of its own each call, which remove() deletes with its folder', async () => {
    const first = await buildHandlerBundle();
    const second = await buildHandlerBundle();
    try {
      expect(first.url).not.toBe(second.url);
      expect(basename(fileURLToPath(first.url))).toBe(BUNDLE_FILE_NAME);
      expect(existsSync(fileURLToPath(first.url))).toBe(true);
      first.remove();
      expect(existsSync(dirname(fileURLToPath(first.url)))).toBe(false);
      expect(existsSync(fileURLToPath(second.url))).toBe(true);
    } finally {
      first.remove();
      second.remove();
    }
  });
});

describe('bundledHandlerModule', () => {
  it('builds once per process: every call gets the same file URL', async () => {
    const first = bundledHandlerModule();
    expect(bundledHandlerModule()).toBe(first);
    const url = await first;
    expect(url.startsWith('file://')).toBe(true);
    expect(basename(fileURLToPath(url))).toBe(BUNDLE_FILE_NAME);
    expect(existsSync(fileURLToPath(url))).toBe(true);
  });

  it('is imported by plain node, without tsx, and exports the handler', async () => {
    const url = await bundledHandlerModule();
    const env = {
      PATH: process.env.PATH ?? '',
      ...localHandlerEnv({
        // Nothing is called at import: nothing needs to listen there.
        affixBaseUrl: 'http://127.0.0.1:9',
        ssmUrl: 'http://127.0.0.1:9',
        dynamodbUrl: 'http://127.0.0.1:9',
        stateTableName: 'handler-bundle-test',
      }),
    };
    const script = `const m = await import(${JSON.stringify(url)}); process.stdout.write(typeof m.handler);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env });
    expect(stdout).toBe('function');
  });

  it("removes the bundle's folder when the process that built it exits", async () => {
    const script = `const { bundledHandlerModule } = await import('./local/handler-bundle.ts'); process.stdout.write(await bundledHandlerModule());`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const folder = dirname(fileURLToPath(stdout.trim()));
    expect(basename(folder)).toMatch(/^handler-bundle-/);
    expect(existsSync(folder)).toBe(false);
  });
});
