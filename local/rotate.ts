/**
 * `npm run rotate`: runs the rotation job once (forced) against a stack `npm start` is running, found
 * through its stack file (`stack-file.ts`): the only one running, or the one `--stack <file>` or
 * `--port <port>` names. `ROTATION_GRACE_SECONDS` applies; with 0 one run adds, verifies, stores and
 * retires. Prints the outcome (steps only, never a secret). `--help` prints {@link ROTATE_USAGE} and
 * rotates nothing.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RotationOutcome } from '../functions/core/app/rotate.ts';
import {
  chooseStack,
  listRunningStacks,
  readStackFile,
  type StackFile,
  stackEnv,
  stacksDir,
} from './stack-file.ts';

export const ROTATE_USAGE = [
  'Usage: npm run rotate [-- --stack <file> | --port <port>] [-- --help]',
  '',
  "Rotates the local stack's Affix client secret once, now: adds a new secret, checks it, stores it in",
  'the local SSM endpoint and, once the grace period has passed, retires the old one. Prints the steps.',
  '',
  'Which stack: the only one `npm start` is running (its file is in local/.stacks/), or:',
  '  --stack <file>   the stack file local/.stacks/<pid>.json of that stack',
  '  --port <port>    the stack listening on that port (its API, sandbox, receiver, SSM or DynamoDB)',
  '  --help, -h       print this and exit (rotates nothing)',
  '',
  'Environment:',
  '  ROTATION_GRACE_SECONDS  how long the old secret stays listed (0: retire it in the same run)',
  '  LOCAL_STACKS_DIR        folder of the stack files (default local/.stacks)',
  '',
].join('\n');

export interface RotateArguments {
  help: boolean;
  stackFile: string | undefined;
  port: number | undefined;
}

/** `npm run rotate -- ...` arguments; anything unknown is an error (a typo must not rotate). */
export function parseRotateArguments(argv: readonly string[]): RotateArguments {
  const parsed: RotateArguments = { help: false, stackFile: undefined, port: undefined };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    const value = (): string => {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('-'))
        throw new Error(`${argument} needs a value (see --help)`);
      index += 1;
      return next;
    };
    if (argument === '--help' || argument === '-h') parsed.help = true;
    else if (argument === '--stack') parsed.stackFile = value();
    else if (argument === '--port') {
      const raw = value();
      const port = Number(raw);
      if (!/^\d+$/.test(raw) || port < 1 || port > 65_535)
        throw new Error(`--port must be a port number, got ${raw}`);
      parsed.port = port;
    } else
      throw new Error(
        `unknown argument ${JSON.stringify(argument)} (npm run rotate -- --help lists the options)`,
      );
  }
  if (parsed.stackFile !== undefined && parsed.port !== undefined) {
    throw new Error('give --stack or --port, not both');
  }
  return parsed;
}

/** The stack file the arguments name, or the only running stack's. */
export async function findStack(
  args: Pick<RotateArguments, 'stackFile' | 'port'>,
  env: Record<string, string | undefined>,
): Promise<StackFile> {
  if (args.stackFile !== undefined) return readStackFile(resolve(args.stackFile));
  const dir = stacksDir(env);
  return chooseStack(await listRunningStacks(dir), dir, args.port).file;
}

/** Rotates once against the stack `stack` describes (a stack file's content or its path). */
export async function rotateLocalStack(
  stack: StackFile | string,
  env: Record<string, string | undefined> = process.env,
): Promise<RotationOutcome> {
  const file = typeof stack === 'string' ? await readStackFile(stack) : stack;
  // Loaded on the first rotation, not with this module: the job's SDK clients are most of its import
  // CPU, which `--help` and a refused choice of stack never need.
  const { createRotationJob } = await import('../functions/secret-rotation/job.ts');
  const jobEnv = {
    ...stackEnv(file),
    ...(env.ROTATION_GRACE_SECONDS === undefined
      ? {}
      : { ROTATION_GRACE_SECONDS: env.ROTATION_GRACE_SECONDS }),
  };
  // The SDK clients resolve endpoints, region and keys from process.env: point them at the stack.
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[name];
  Object.assign(process.env, jobEnv);
  return createRotationJob(jobEnv).run({ force: true });
}

async function main(argv: readonly string[]): Promise<void> {
  const args = parseRotateArguments(argv);
  if (args.help) {
    process.stdout.write(ROTATE_USAGE);
    return;
  }
  const file = await findStack(args, process.env);
  const outcome = await rotateLocalStack(file);
  process.stdout.write(`rotation ${outcome.outcome}: ${outcome.steps.join(' -> ')}\n`);
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
