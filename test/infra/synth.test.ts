/**
 * The slow, real thing: `cdk synth` through the CLI and cdk.json, offline and with no AWS credentials,
 * bundling the real handler with the local esbuild. One stage is enough: `canary` has every function
 * (the proxy, the synthetic caller, the secret rotation and the pre-traffic hook), bundling does not
 * depend on the stage, and every stage's template and cdk-nag findings are checked in-process by the
 * other CDK suites. Then the bundle a benchmark builds with esbuildOptionsFor() must be byte-identical
 * to the deployed one, and must load.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_FILE_NAME, esbuildOptionsFor } from '../../infra/bundling.ts';
import { CLIENT_CONFIG_ENTRY } from '../../infra/service.ts';
import { stackNameFor } from '../../infra/webhook-config-stack.ts';
import { cdkSynth, offlineEnv, synthesizedAssembly } from '../support/synthesized.ts';
import { FIXTURE_STAGES_DIR } from './fixtures.ts';

const STAGE = 'canary';
const run = promisify(execFile);

/** The directory of a function's bundled asset inside the cloud assembly, found by its entry module. */
function functionAssetDir(outdir: string, entry = 'functions/client-config/handler.ts'): string {
  const manifest = JSON.parse(readFileSync(join(outdir, `${stackNameFor(STAGE)}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string; packaging?: string } }>;
  };
  const bundles = Object.values(manifest.files)
    .map((file) => file.source)
    .filter((source) => source.packaging === 'zip')
    .map((source) => join(outdir, source.path));
  // The client-config function, the synthetic caller, the secret rotation, the pre-traffic hook.
  expect(bundles).toHaveLength(4);
  const found = bundles.filter((dir) => {
    const meta = JSON.parse(readFileSync(join(dir, 'index.meta.json'), 'utf8')) as { inputs: object };
    return entry in meta.inputs;
  });
  expect(found).toHaveLength(1);
  return found[0] as string;
}

const work = mkdtempSync(join(tmpdir(), 'infra-synth-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('cdk synth (CLI, offline, no AWS credentials, real bundling)', () => {
  let outdir = '';

  beforeAll(async () => {
    // The run's one synth of the stage (test/support/synthesized.ts), shared with any other suite asking.
    outdir = await synthesizedAssembly({ stage: STAGE, stagesDir: FIXTURE_STAGES_DIR });
  });

  it(`synthesizes the ${STAGE} stack with no validation finding`, () => {
    const template = JSON.parse(
      readFileSync(join(outdir, `${stackNameFor(STAGE)}.template.json`), 'utf8'),
    ) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(
      4,
    );
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: unknown[];
    };
    expect(report.pluginReports).toEqual([]);
  });

  it('bundles the real handler: ESM, source map, metafile, AWS SDK inside', () => {
    const assetDir = functionAssetDir(outdir);
    expect(readdirSync(assetDir).sort()).toEqual(
      [BUNDLE_FILE_NAME, `${BUNDLE_FILE_NAME}.map`, 'index.meta.json'].sort(),
    );
    const meta = JSON.parse(readFileSync(join(assetDir, 'index.meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const inputs = Object.keys(meta.inputs);
    expect(inputs).toContain('functions/client-config/handler.ts');
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/client-ssm/'))).toBe(true);
    const code = readFileSync(join(assetDir, BUNDLE_FILE_NAME), 'utf8');
    expect(code.startsWith("import { createRequire } from 'node:module';")).toBe(true);
    expect(code.trimEnd().endsWith(`//# sourceMappingURL=${BUNDLE_FILE_NAME}.map`)).toBe(true);
  });

  it('bundles the pre-traffic hook with its AWS SDK clients, and none of the proxy', () => {
    const assetDir = functionAssetDir(outdir, 'functions/deploy-check/handler.ts');
    const inputs = Object.keys(
      (JSON.parse(readFileSync(join(assetDir, 'index.meta.json'), 'utf8')) as { inputs: object }).inputs,
    );
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/client-codedeploy/'))).toBe(true);
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/client-lambda/'))).toBe(true);
    expect(inputs).not.toContain('functions/client-config/handler.ts');
  });

  it('bundles the synthetic caller with the typed client inside', () => {
    const assetDir = functionAssetDir(outdir, 'functions/synthetic-caller/handler.ts');
    const meta = JSON.parse(readFileSync(join(assetDir, 'index.meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    expect(Object.keys(meta.inputs)).toContain('clients/client-config-client.ts');
    // It calls the API only: none of the proxy's handler is in it.
    expect(Object.keys(meta.inputs)).not.toContain('functions/client-config/handler.ts');
  });

  it('builds the same bytes with esbuildOptionsFor() as NodejsFunction does', async () => {
    const outfile = join(work, 'bench', BUNDLE_FILE_NAME);
    const result = await build(esbuildOptionsFor(CLIENT_CONFIG_ENTRY, outfile));
    expect(result.errors).toEqual([]);
    expect(Object.keys(result.metafile?.outputs ?? {}).length).toBeGreaterThan(0);
    const deployed = readFileSync(join(functionAssetDir(outdir), BUNDLE_FILE_NAME));
    expect(readFileSync(outfile).equals(deployed), 'the bundles differ').toBe(true);
  });

  it('produces a bundle that Node.js 22 loads, exporting handler', async () => {
    const bundle = join(functionAssetDir(outdir), BUNDLE_FILE_NAME);
    const script = `import(${JSON.stringify(bundle)}).then((m) => console.log(typeof m.handler))`;
    const { stdout } = await run(
      process.execPath,
      ['--enable-source-maps', '--input-type=module', '-e', script],
      {
        env: {
          ...offlineEnv(),
          STAGE: 'dev',
          AFFIX_BASE_URL: 'https://dev.api.affixapi.com',
          AFFIX_CLIENT_ID_PARAMETER: '/affix/dev/client-id',
          AFFIX_CLIENT_SECRET_PARAMETER: '/affix/dev/client-secret',
          STATE_TABLE_NAME: 'affix-webhook-config-dev-state',
          ETAG_KEY_PARAMETER: '/affix/dev/etag-key',
          DESTINATION_POLICY: '{"anyHost":true}',
          AWS_REGION: 'eu-west-1',
          // Nothing should be called at import; if something is, it fails fast and locally.
          AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:9',
          AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
        },
        timeout: 30_000,
      },
    );
    expect(stdout.trim()).toBe('function');
  });

  it('refuses to synthesize without a stage, listing the valid ones', async () => {
    const failure = await cdkSynth([
      '-c',
      `stagesDir=${FIXTURE_STAGES_DIR}`,
      '-o',
      join(work, 'cdk.out.none'),
    ]).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBeGreaterThan(0);
    expect(failure?.stderr).toContain('No stage given. Pass -c stage=<stage>, one of: basic, canary.');
    expect(existsSync(join(work, 'cdk.out.none', `${stackNameFor('basic')}.template.json`))).toBe(false);
  });
});
