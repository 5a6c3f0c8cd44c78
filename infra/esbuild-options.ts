/**
 * How our Lambda code is bundled, as esbuild sees it: the constants every bundle derives from and
 * {@link esbuildOptionsFor}, the `esbuild.build()` options that produce the bundle Lambda runs.
 * No CDK here, so the local pool and the bench bundle without aws-cdk-lib; `bundling.ts` turns the
 * same constants into `NodejsFunction` options (test/infra/bundling.test.ts checks they agree).
 *
 * @example
 * import { build } from 'esbuild';
 * await build(esbuildOptionsFor('functions/client-config/handler.ts', join(tmpdir(), 'bundle', 'index.mjs')));
 */
import type { BuildOptions } from 'esbuild';

/** esbuild target; matches the Lambda runtime (Node.js 22, see `service-function.ts`). */
export const ESBUILD_TARGET = 'node22';

/** The bundle's file name inside the Lambda package (NodejsFunction names ESM bundles `index.mjs`). */
export const BUNDLE_FILE_NAME = 'index.mjs';

/**
 * Prefer the ESM build of every package (what NodejsFunction does for ESM), else parts of the AWS
 * SDK end up as CommonJS and hit `Dynamic require of "node:https"`.
 */
export const MAIN_FIELDS: readonly string[] = ['module', 'main'];

/**
 * Nothing is external: the AWS SDK is bundled (and tree-shaken) instead of taken from the runtime,
 * so the code we test is the code that runs, whatever SDK version the runtime ships.
 */
export const EXTERNAL_MODULES: readonly string[] = [];

/**
 * Gives CommonJS code inside the ESM bundle a real `require` for Node built-ins; without it such
 * code throws `Dynamic require of "…" is not supported`, possibly only when a request reaches it.
 * Today's bundle has no such `require` (checked when this was written); the banner costs one line
 * and keeps a future CommonJS dependency from failing in production.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export const MINIFY = true;
/** Linked source map (`index.mjs.map` beside the bundle), read by Node with {@link SOURCE_MAP_NODE_OPTIONS}. */
export const SOURCE_MAP = true;
/** Source maps carry positions only, not the sources: a smaller package to load, same stack traces. */
export const SOURCES_CONTENT = false;
/** Writes `index.meta.json` (inputs, outputs, sizes) for bundle analysis. */
export const METAFILE = true;

/** `NODE_OPTIONS` that makes stack traces point at our TypeScript through the source map. */
export const SOURCE_MAP_NODE_OPTIONS = '--enable-source-maps';

/**
 * `esbuild.build()` options that bundle `entry` into `outfile` exactly as the Lambda function is
 * bundled. Name the outfile {@link BUNDLE_FILE_NAME} to get byte-identical output.
 */
export function esbuildOptionsFor(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ESBUILD_TARGET,
    mainFields: [...MAIN_FIELDS],
    external: [...EXTERNAL_MODULES],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: MINIFY,
    sourcemap: SOURCE_MAP,
    sourcesContent: SOURCES_CONTENT,
    metafile: METAFILE,
    logLevel: 'warning',
  };
}
