/**
 * The one place that decides how our Lambda code is bundled (the esbuild side in `esbuild-options.ts`).
 *
 * {@link nodejsBundling} is what {@link ServiceFunction} hands to `NodejsFunction`;
 * {@link esbuildOptionsFor} expresses the very same choices as `esbuild.build()` options, so a
 * benchmark or any script can produce the bundle Lambda runs without copying flags. Both derive
 * from the constants below, and test/infra/bundling.test.ts checks they agree.
 *
 * @example
 * import { build } from 'esbuild';
 * import { esbuildOptionsFor } from '../infra/bundling.ts';
 * const result = await build(esbuildOptionsFor('functions/client-config/handler.ts', 'cdk.out/bundle/index.mjs'));
 * result.metafile; // inputs and outputs with their sizes
 */
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import {
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  EXTERNAL_MODULES,
  MAIN_FIELDS,
  METAFILE,
  MINIFY,
  SOURCE_MAP,
  SOURCES_CONTENT,
} from './esbuild-options.ts';

// The esbuild side stays importable from here, where the bundling of the functions is decided.
export * from './esbuild-options.ts';

/** Bundling options for `NodejsFunction`: local esbuild only, never Docker. */
export const nodejsBundling: BundlingOptions = {
  format: OutputFormat.ESM,
  target: ESBUILD_TARGET,
  mainFields: [...MAIN_FIELDS],
  externalModules: [...EXTERNAL_MODULES],
  banner: ESM_REQUIRE_BANNER,
  minify: MINIFY,
  sourceMap: SOURCE_MAP,
  sourcesContent: SOURCES_CONTENT,
  metafile: METAFILE,
  forceDockerBundling: false,
};
