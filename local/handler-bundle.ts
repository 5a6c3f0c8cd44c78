/**
 * The client-config handler as Lambda runs it: bundled with the deployment's own esbuild options
 * (`infra/esbuild-options.ts`) into a temporary folder. A pool environment given this bundle starts
 * without tsx (see `lambda-environment.mjs`), which is most of an environment's start-up CPU, and what
 * the suites exercise is the artifact that is deployed.
 *
 * @example
 * await startLocalStack({ concurrency: 4, handlerModule: await bundledHandlerModule() });
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_FILE_NAME, esbuildOptionsFor } from '../infra/esbuild-options.ts';

const HANDLER_ENTRY = fileURLToPath(new URL('../functions/client-config/handler.ts', import.meta.url));

export interface HandlerBundle {
  /** The bundle's file URL. */
  url: string;
  /** Removes the bundle's folder. */
  remove(): void;
}

/** Builds the handler bundle into a folder of its own; the caller removes it when done. */
export async function buildHandlerBundle(): Promise<HandlerBundle> {
  const dir = mkdtempSync(join(tmpdir(), 'handler-bundle-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const outfile = join(dir, BUNDLE_FILE_NAME);
  try {
    const result = await build(esbuildOptionsFor(HANDLER_ENTRY, outfile));
    if (result.errors.length > 0) throw new Error(`bundling ${HANDLER_ENTRY} failed`);
  } catch (error) {
    remove();
    throw error;
  }
  return { url: pathToFileURL(outfile).href, remove };
}

let bundled: Promise<string> | undefined;

/**
 * The file URL of the bundled handler, built on the first call (later calls share it) and removed
 * when the process exits.
 */
export function bundledHandlerModule(): Promise<string> {
  bundled ??= buildHandlerBundle().then(({ url, remove }) => {
    process.once('exit', remove);
    return url;
  });
  return bundled;
}
