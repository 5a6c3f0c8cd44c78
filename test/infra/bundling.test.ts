/**
 * The benchmark bundles with esbuildOptionsFor(); Lambda gets what NodejsFunction builds from
 * nodejsBundling. These checks keep the two descriptions of one bundle in step; synth.test.ts
 * compares the real outputs byte for byte.
 */
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_FILE_NAME,
  ESBUILD_TARGET,
  ESM_REQUIRE_BANNER,
  esbuildOptionsFor,
  nodejsBundling,
  SOURCE_MAP_NODE_OPTIONS,
} from '../../infra/bundling.ts';
import { FUNCTION_RUNTIME } from '../../infra/service-function.ts';

describe('bundling options', () => {
  const esbuild = esbuildOptionsFor(
    'functions/client-config/handler.ts',
    `cdk.out/bundle/${BUNDLE_FILE_NAME}`,
  );

  it('builds an ESM bundle for Node.js 22, like the Lambda runtime', () => {
    expect(nodejsBundling.format).toBe(OutputFormat.ESM);
    expect(esbuild.format).toBe('esm');
    expect(esbuild.platform).toBe('node');
    expect(esbuild.bundle).toBe(true);
    expect(nodejsBundling.target).toBe(ESBUILD_TARGET);
    expect(esbuild.target).toBe(ESBUILD_TARGET);
    expect(FUNCTION_RUNTIME.name).toBe('nodejs22.x');
    expect(ESBUILD_TARGET).toBe(`node${FUNCTION_RUNTIME.name.match(/^nodejs(\d+)\.x$/)?.[1]}`);
  });

  it('bundles every dependency, the AWS SDK included', () => {
    expect(nodejsBundling.externalModules).toEqual([]);
    expect(esbuild.external ?? []).toEqual([]);
  });

  it('resolves packages through their ESM entry first', () => {
    expect(nodejsBundling.mainFields).toEqual(['module', 'main']);
    expect(esbuild.mainFields).toEqual(nodejsBundling.mainFields);
  });

  it('gives CommonJS code in the bundle a require()', () => {
    expect(nodejsBundling.banner).toBe(ESM_REQUIRE_BANNER);
    expect(esbuild.banner).toEqual({ js: ESM_REQUIRE_BANNER });
  });

  it('minifies, writes a linked source map without sources, and a metafile', () => {
    expect(nodejsBundling.minify).toBe(true);
    expect(esbuild.minify).toBe(true);
    expect(nodejsBundling.sourceMap).toBe(true);
    expect(nodejsBundling.sourceMapMode).toBeUndefined();
    expect(esbuild.sourcemap).toBe(true);
    expect(nodejsBundling.sourcesContent).toBe(false);
    expect(esbuild.sourcesContent).toBe(false);
    expect(nodejsBundling.metafile).toBe(true);
    expect(esbuild.metafile).toBe(true);
    expect(SOURCE_MAP_NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('never uses Docker', () => {
    expect(nodejsBundling.forceDockerBundling).toBe(false);
    expect(nodejsBundling.dockerImage).toBeUndefined();
  });

  it('sets no option on one side that the other does not know about', () => {
    // Every NodejsFunction option in use, and the esbuild option it corresponds to.
    const correspondence: Record<string, string | null> = {
      format: 'format',
      target: 'target',
      mainFields: 'mainFields',
      externalModules: 'external',
      banner: 'banner',
      minify: 'minify',
      sourceMap: 'sourcemap',
      sourcesContent: 'sourcesContent',
      metafile: 'metafile',
      forceDockerBundling: null, // how to run esbuild, not what it builds
    };
    expect(Object.keys(nodejsBundling).sort()).toEqual(Object.keys(correspondence).sort());
    // NodejsFunction always passes these itself (entry, --outfile, --bundle, --platform=node).
    const implied = ['entryPoints', 'outfile', 'bundle', 'platform', 'logLevel'];
    const mapped = Object.values(correspondence).filter((key) => key !== null);
    expect(Object.keys(esbuild).sort()).toEqual([...implied, ...mapped].sort());
  });

  it('bundles the given entry into the given file', () => {
    expect(esbuildOptionsFor('a.ts', '/b/index.mjs')).toMatchObject({
      entryPoints: ['a.ts'],
      outfile: '/b/index.mjs',
    });
  });
});
