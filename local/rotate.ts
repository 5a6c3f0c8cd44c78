/**
 * `npm run rotate`: runs the rotation job once (forced) against the stack `npm start` is running,
 * found through `local/.stack.json`. `ROTATION_GRACE_SECONDS` applies; with 0 one run adds,
 * verifies, stores and retires. Prints the outcome (steps only, never a secret).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRotationJob } from '../functions/secret-rotation/job.ts';
import type { RotationOutcome } from '../functions/secret-rotation/rotate.ts';
import { readStackFile, stackEnv } from './stack-file.ts';

export async function rotateLocalStack(
  stackFile?: string,
  env: Record<string, string | undefined> = process.env,
): Promise<RotationOutcome> {
  const file = await readStackFile(stackFile);
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

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  rotateLocalStack().then(
    (outcome) => {
      process.stdout.write(`rotation ${outcome.outcome}: ${outcome.steps.join(' -> ')}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
