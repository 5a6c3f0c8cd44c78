/**
 * Where each running local stack is: `npm start` writes one file per process
 * (`local/.stacks/<pid>.json`, gitignored) and removes it when it stops, so two stacks never overwrite
 * each other's file and `npm run rotate` finds the right one (the only one running, or the one named by
 * `--stack <file>` or `--port <port>`). URLs, the table name and the parameter names only: never a secret.
 */
import { rmSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_CLIENT_ID_PARAMETER,
  DEFAULT_CLIENT_SECRET_PARAMETER,
  DEFAULT_ETAG_KEY_PARAMETER,
  localHandlerEnv,
} from './handler-env.ts';
import type { LocalStack } from './start.ts';

/** The default folder of the stack files; `LOCAL_STACKS_DIR` moves it (tests use a temporary one). */
export const DEFAULT_STACKS_DIR = fileURLToPath(new URL('./.stacks/', import.meta.url));

export function stacksDir(env: Record<string, string | undefined>): string {
  const dir = env.LOCAL_STACKS_DIR;
  return dir === undefined || dir === '' ? DEFAULT_STACKS_DIR : dir;
}

export interface StackFile {
  /** The process that serves this stack (`npm start`'s node process). */
  pid: number;
  apiUrl: string;
  affixBaseUrl: string;
  /** The built-in webhook receiver's URL, when it runs. */
  webhookReceiverUrl: string | null;
  ssmUrl: string;
  dynamodbUrl: string;
  stateTableName: string;
  clientIdParameter: string;
  clientSecretParameter: string;
  etagKeyParameter: string;
}

export function describeForFile(stack: LocalStack, pid: number = process.pid): StackFile {
  return {
    pid,
    apiUrl: stack.apiUrl,
    affixBaseUrl: stack.affixBaseUrl,
    webhookReceiverUrl: stack.webhookReceiver?.url ?? null,
    ssmUrl: stack.ssm.url,
    dynamodbUrl: stack.dynamodb.url,
    stateTableName: stack.dynamodb.tableName,
    clientIdParameter: DEFAULT_CLIENT_ID_PARAMETER,
    clientSecretParameter: DEFAULT_CLIENT_SECRET_PARAMETER,
    etagKeyParameter: DEFAULT_ETAG_KEY_PARAMETER,
  };
}

export function stackFilePath(dir: string, pid: number = process.pid): string {
  return join(dir, `${pid}.json`);
}

/** Writes the stack file at `path` (its folder created if needed), by default `<dir>/<this pid>.json`. */
export async function writeStackFile(
  stack: LocalStack,
  path: string,
  pid: number = process.pid,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(describeForFile(stack, pid), null, 2)}\n`, { mode: 0o600 });
}

/** Synchronous, so a stack that is stopping or exiting removes its file before anything else can fail. */
export function removeStackFile(path: string): void {
  rmSync(path, { force: true });
}

/** Whether a process with this id runs (signal 0 checks without signalling; EPERM: it runs as another user). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseStackFile(text: string, path: string): StackFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not a stack file (not JSON)`);
  }
  const file = parsed as Partial<StackFile> | null;
  if (
    file === null ||
    typeof file !== 'object' ||
    typeof file.apiUrl !== 'string' ||
    typeof file.ssmUrl !== 'string'
  ) {
    throw new Error(`${path} is not a stack file (no apiUrl or ssmUrl)`);
  }
  return file as StackFile;
}

export async function readStackFile(path: string): Promise<StackFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`no stack file at ${path}: start a stack with npm start`);
  }
  return parseStackFile(text, path);
}

export interface RunningStack {
  path: string;
  file: StackFile;
}

/** The stack files in `dir` whose process still runs (files left by a killed stack are skipped). */
export async function listRunningStacks(
  dir: string,
  isAlive: (pid: number) => boolean = processIsAlive,
): Promise<RunningStack[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const running: RunningStack[] = [];
  for (const name of names.filter((entry) => /^\d+\.json$/.test(entry)).sort()) {
    const path = join(dir, name);
    try {
      const file = await readStackFile(path);
      if (isAlive(file.pid)) running.push({ path, file });
    } catch {
      // Removed while listing, or not ours: not a running stack.
    }
  }
  return running;
}

/** Removes the files of stacks whose process is gone (a stack killed with SIGKILL leaves its file). */
export async function removeStaleStackFiles(
  dir: string,
  isAlive: (pid: number) => boolean = processIsAlive,
): Promise<void> {
  const running = new Set((await listRunningStacks(dir, isAlive)).map((stack) => stack.path));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names.filter((entry) => /^\d+\.json$/.test(entry))) {
    const path = join(dir, name);
    if (!running.has(path)) removeStackFile(path);
  }
}

function portOf(url: string | null): number | undefined {
  if (url === null) return undefined;
  try {
    return Number(new URL(url).port);
  } catch {
    return undefined;
  }
}

/**
 * The one stack `stacks` leaves to pick: the one listening on `port` (its API, sandbox, receiver, SSM
 * or DynamoDB port), else the only one. None or several: an error that says what to do.
 */
export function chooseStack(stacks: readonly RunningStack[], dir: string, port?: number): RunningStack {
  const candidates =
    port === undefined
      ? stacks
      : stacks.filter(({ file }) =>
          [file.apiUrl, file.affixBaseUrl, file.webhookReceiverUrl, file.ssmUrl, file.dynamodbUrl]
            .map(portOf)
            .includes(port),
        );
  const [only, ...others] = candidates;
  if (only !== undefined && others.length === 0) return only;
  if (only === undefined) {
    throw new Error(
      port === undefined
        ? `no running local stack found in ${dir}: start one with npm start`
        : `no running local stack listens on port ${port} (stack files in ${dir})`,
    );
  }
  const listed = candidates.map(({ path, file }) => `  ${path}  (API ${file.apiUrl})`).join('\n');
  throw new Error(
    `${candidates.length} local stacks are running; name one with --stack <file> or --port <API port>:\n${listed}`,
  );
}

/** The environment a function needs to run against that stack (local SDK endpoints and fake keys). */
export function stackEnv(file: StackFile): Record<string, string> {
  return localHandlerEnv({
    affixBaseUrl: file.affixBaseUrl,
    ssmUrl: file.ssmUrl,
    dynamodbUrl: file.dynamodbUrl,
    stateTableName: file.stateTableName,
    clientIdParameter: file.clientIdParameter,
    clientSecretParameter: file.clientSecretParameter,
    etagKeyParameter: file.etagKeyParameter,
  });
}
