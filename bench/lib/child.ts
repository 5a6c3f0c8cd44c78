/**
 * The parent's side of a handler child process: builds the driver once, forks it with plain `node`
 * (no TypeScript loader), sends one command at a time and waits for its reply within a time limit.
 *
 * @example
 * const driver = await buildDriver('bench/.work/driver');
 * const child = startChild({ driver, env, exposeGc: false });
 * await child.run({ op: 'load', module: bundleUrl }, 10_000);
 * await child.stop();
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { CommandBody, CommandOp, Reply, ReplyTo } from './protocol.ts';

export class ChildError extends Error {
  override readonly name = 'ChildError';
}

const DRIVER_ENTRY = new URL('../child/driver.ts', import.meta.url).pathname;

/** Bundles the driver (our bench code, not the function under test) into one plain ESM file. */
export function buildDriver(outDir: string): Promise<string> {
  return bundleForPlainNode(DRIVER_ENTRY, outDir, 'driver.mjs');
}

/** Bundles a bench child's entry into `<outDir>/<fileName>`, one ESM file plain `node` runs without tsx. */
export async function bundleForPlainNode(entry: string, outDir: string, fileName: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const outfile = join(outDir, fileName);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // The AWS SDK's ESM entry points (as NodejsFunction bundles them): its CJS ones `require` node
    // built-ins, which an ESM bundle cannot.
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  return outfile;
}

export interface ChildOptions {
  driver: string;
  /** The child's whole environment (nothing is inherited). */
  env: Record<string, string>;
  /** Starts Node with `--expose-gc`, for the memory figures only. */
  exposeGc: boolean;
}

export interface HandlerChild {
  run<Op extends CommandOp>(
    command: Extract<CommandBody, { op: Op }>,
    timeoutMs: number,
  ): Promise<ReplyTo<Op>>;
  /** Ends the child (SIGTERM, then SIGKILL after two seconds) and waits until it has exited. */
  stop(): Promise<void>;
}

const STDERR_KEEP = 4_000;

export function startChild(options: ChildOptions): HandlerChild {
  const child: ChildProcess = fork(options.driver, [], {
    execPath: process.execPath,
    // Not the parent's flags: those load tsx, which must not touch the measured process.
    execArgv: options.exposeGc ? ['--expose-gc'] : [],
    env: options.env,
    // stdout (Powertools' log and EMF lines) goes to /dev/null; stderr is kept for error messages.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  let nextId = 1;

  const run = <Op extends CommandOp>(
    command: Extract<CommandBody, { op: Op }>,
    timeoutMs: number,
  ): Promise<ReplyTo<Op>> =>
    new Promise((resolve, reject) => {
      if (exited) {
        reject(new ChildError(`the child has exited; stderr: ${stderr.trim()}`));
        return;
      }
      const id = nextId;
      nextId += 1;
      const cleanup = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const onMessage = (reply: Reply) => {
        if (reply.id !== id) return;
        cleanup();
        if (reply.op === 'error')
          reject(new ChildError(`${command.op} failed in the child: ${reply.message}`));
        else resolve(reply as ReplyTo<Op>);
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new ChildError(`the child exited (${code ?? signal}) during ${command.op}: ${stderr.trim()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        child.kill('SIGKILL');
        reject(new ChildError(`${command.op} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ ...command, id });
    });

  return {
    run,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exitedPromise;
      clearTimeout(killTimer);
    },
  };
}
