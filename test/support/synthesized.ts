/**
 * One real `cdk synth` per stage per test run, shared by every suite and worker that asks for it: the
 * CLI through cdk.json, offline, with real bundling. The first caller of a stage synthesizes it into
 * the run's directory (test/support/synth-global-setup.ts provides it); callers in other workers wait
 * for that result instead of starting their own. Nothing is synthesized unless a suite asks.
 *
 * @example
 * const outdir = await synthesizedAssembly({ stage: 'basic', stagesDir: FIXTURE_STAGES_DIR });
 * const template = await synthesizedTemplate({ stage: 'basic', stagesDir: FIXTURE_STAGES_DIR });
 * Template.fromJSON(template); // aws-cdk-lib/assertions, in a CDK suite
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's directory for shared cloud assemblies; empty outside a vitest run with the setup. */
    synthRoot: string;
  }
}

const run = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO_ROOT, 'node_modules', '.bin');
/**
 * Measured: one stage with bundling takes ~30 s of CPU; 65 s alone with a load average of 20, over 150 s
 * inside a whole `npm test` at that load. A hang ends here, within the `cdk` project's hook timeout.
 */
const SYNTH_TIMEOUT_MS = 330_000;
const POLL_MS = 200;

export interface SynthRequest {
  stage: string;
  /** The stage files' directory (`-c stagesDir=`): tests use their own fixtures. */
  stagesDir: string;
}

/** The environment of a CI runner without AWS: no credentials, no profile, no instance metadata. */
export function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('CDK_')) env[key] = value;
  }
  return {
    ...env,
    PATH: `${BIN}${delimiter}${process.env.PATH ?? ''}`,
    CDK_DISABLE_VERSION_CHECK: 'true',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** `cdk synth` through the CLI and cdk.json, offline; rejects with the CLI's exit code and stderr. */
export function cdkSynth(args: string[], timeoutMs = SYNTH_TIMEOUT_MS) {
  return run(join(BIN, 'cdk'), ['synth', '--no-notices', '--quiet', ...args], {
    cwd: REPO_ROOT,
    env: offlineEnv(),
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
}

let fallbackRoot: string | undefined;

/** The run's directory (from the global setup), or this process's own when a file runs without it. */
function synthRoot(): string {
  const provided = inject('synthRoot');
  if (typeof provided === 'string' && provided !== '') return provided;
  fallbackRoot ??= mkdtempSync(join(tmpdir(), 'synth-'));
  return fallbackRoot;
}

const inProcess = new Map<string, Promise<string>>();

/**
 * The cloud assembly directory of `stage` synthesized from `stagesDir` (manifest.json, the template,
 * the bundled assets, validation-report.json). Synthesized once per run; read it, never write to it.
 */
export function synthesizedAssembly(request: SynthRequest): Promise<string> {
  const key = `${request.stage}-${createHash('sha256').update(request.stagesDir).digest('hex').slice(0, 12)}`;
  let pending = inProcess.get(key);
  if (pending === undefined) {
    pending = synthesizeOnce(join(synthRoot(), key), request);
    inProcess.set(key, pending);
  }
  return pending;
}

/** Synthesizes into `outdir` unless another worker does or did; resolves when the assembly is there. */
async function synthesizeOnce(outdir: string, request: SynthRequest): Promise<string> {
  const done = `${outdir}.done`;
  const failed = `${outdir}.failed`;
  let owner = false;
  try {
    // mkdir is atomic: exactly one worker of the run gets to synthesize this stage.
    mkdirSync(`${outdir}.lock`);
    owner = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (owner) {
    try {
      await cdkSynth(['-c', `stage=${request.stage}`, '-c', `stagesDir=${request.stagesDir}`, '-o', outdir]);
      writeFileSync(done, '');
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      writeFileSync(failed, stderr || String(error));
      throw error;
    }
    return outdir;
  }
  const giveUp = Date.now() + SYNTH_TIMEOUT_MS;
  while (!existsSync(done)) {
    if (existsSync(failed)) {
      throw new Error(
        `cdk synth of ${request.stage} failed in another worker:\n${readFileSync(failed, 'utf8')}`,
      );
    }
    if (Date.now() > giveUp)
      throw new Error(`cdk synth of ${request.stage} did not finish in another worker`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return outdir;
}

export interface CloudFormationTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>>;
  [section: string]: unknown;
}

/** The one stack's CloudFormation template of the stage's assembly (see {@link synthesizedAssembly}). */
export async function synthesizedTemplate(request: SynthRequest): Promise<CloudFormationTemplate> {
  const outdir = await synthesizedAssembly(request);
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stacks = Object.values(manifest.artifacts).filter(
    (artifact) => artifact.type === 'aws:cloudformation:stack',
  );
  const templateFile = stacks[0]?.properties?.templateFile;
  if (stacks.length !== 1 || templateFile === undefined) {
    throw new Error(`expected one stack in the ${request.stage} assembly, found ${stacks.length}`);
  }
  return JSON.parse(readFileSync(join(outdir, templateFile), 'utf8')) as CloudFormationTemplate;
}

process.once('exit', () => {
  if (fallbackRoot !== undefined) rmSync(fallbackRoot, { recursive: true, force: true });
});
