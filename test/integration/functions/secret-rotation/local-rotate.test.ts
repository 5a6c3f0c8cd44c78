/**
 * `npm run rotate`'s path: the stack file `npm start` writes (no secret in it) is all the rotation
 * needs to find the stack, and with grace 0 one run completes the rotation.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS } from '../../../../local/affix-sandbox.ts';
import { rotateLocalStack } from '../../../../local/rotate.ts';
import { writeStackFile } from '../../../../local/stack-file.ts';
import { type LocalStack, startLocalStack } from '../../../../local/start.ts';
import { captureOutput } from '../../../support/capture.ts';
import { findLeaks } from '../../../support/leaks.ts';
import { signedFetch } from '../../../support/signed-fetch.ts';

const output = captureOutput();
let stack: LocalStack;
let dir: string;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0, concurrency: 1 });
  dir = await mkdtemp(join(tmpdir(), 'stack-file-'));
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

it('finds the stack from its file and completes a rotation in one run with grace 0', async () => {
  const path = join(dir, '.stack.json');
  await writeStackFile(stack, path);
  const text = await readFile(path, 'utf8');
  expect(findLeaks([text], [SANDBOX_DEFAULTS.clientSecret[0]], SANDBOX_DEFAULTS.clientId)).toEqual([]);
  const outcome = await rotateLocalStack(path, { ROTATION_GRACE_SECONDS: '0' });
  expect(outcome.steps).toEqual(['start', 'store-pending', 'retire', 'steady']);
  const listed = stack.sandbox?.client.client_secret ?? [];
  expect(listed).toHaveLength(1);
  expect(listed[0]).not.toBe(SANDBOX_DEFAULTS.clientSecret[0]);
  expect((await signedFetch(`${stack.apiUrl}/client`)).status).toBe(200);
  expect(findLeaks(output.lines, [SANDBOX_DEFAULTS.clientSecret[0], listed[0] ?? ''])).toEqual([]);
});

it('says how to start a stack when none runs', async () => {
  await expect(rotateLocalStack(join(dir, 'missing.json'), {})).rejects.toThrow(/npm start/);
});
