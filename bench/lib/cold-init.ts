/**
 * Cold init: a fresh Node process imports a bundle and reports when it is ready to invoke. Two clocks:
 * the import measured inside the child with `performance.now()` (module evaluation, config parse,
 * client construction), and the wall time from `spawn()` in the parent to the child's ready line
 * (that plus Node's own start-up).
 *
 * @example
 * const sample = await measureColdInit({ module: '/abs/index.mjs', env, timeoutMs: 10_000 });
 * sample.importMs; sample.spawnToReadyMs;
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export interface ColdInitSample {
  /** `await import(bundle)` inside the child. */
  importMs: number;
  /** From the child's time origin (process start) to ready. */
  processReadyMs: number;
  /** From `spawn()` in the parent to the ready line arriving. */
  spawnToReadyMs: number;
}

export interface ColdInitOptions {
  /** Absolute path of the module to import. */
  module: string;
  /** The child's whole environment (nothing is inherited). */
  env: Record<string, string>;
  /** When set, the module must export a function of this name. */
  requireExport?: string;
  timeoutMs: number;
}

export class ColdInitError extends Error {
  override readonly name = 'ColdInitError';
}

/**
 * Runs in the child (`node --input-type=module -e`): imports argv[1], checks the export, prints one
 * JSON line and exits. Nothing else is loaded first, so the figure is the bundle's alone.
 */
const CHILD_SCRIPT = `
const started = performance.now();
const mod = await import(process.argv[1]);
const ready = performance.now();
const wanted = process.argv[2];
if (wanted && typeof mod[wanted] !== 'function') {
  process.stderr.write('the module exports no function ' + wanted + '\\n');
  process.exit(3);
}
process.stdout.write(JSON.stringify({ importMs: ready - started, processReadyMs: ready }) + '\\n');
process.exit(0);
`;

export function measureColdInit(options: ColdInitOptions): Promise<ColdInitSample> {
  return new Promise((resolve, reject) => {
    const args = ['--input-type=module', '-e', CHILD_SCRIPT, pathToFileURL(options.module).href];
    if (options.requireExport !== undefined) args.push(options.requireExport);
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let readyAt: number | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new ColdInitError(`importing ${options.module} took longer than ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (readyAt === undefined && stdout.includes('\n')) readyAt = performance.now();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new ColdInitError(`could not start ${process.execPath}`, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0 || readyAt === undefined) {
        reject(new ColdInitError(`importing ${options.module} failed (exit ${code}): ${stderr.trim()}`));
        return;
      }
      const line = stdout.slice(0, stdout.indexOf('\n'));
      const reported = JSON.parse(line) as { importMs: number; processReadyMs: number };
      resolve({
        importMs: reported.importMs,
        processReadyMs: reported.processReadyMs,
        spawnToReadyMs: readyAt - spawnedAt,
      });
    });
  });
}
