/**
 * `npm start` as a newcomer runs it (through npm, so the signal path is npm's): two stacks at once each
 * keep their own stack file; `npm run rotate -- --help` rotates nothing; with two stacks `npm run
 * rotate` says which to name and `--port` rotates that one only; SIGTERM to npm, and SIGINT to the
 * whole process group as a terminal's Ctrl-C sends it (npm and tsx relay copies of it), stop every
 * server of the stack once, gracefully, and remove its file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuthHeader, CLIENT_PATH, SANDBOX_DEFAULTS } from '../../../local/affix-sandbox.ts';
import { processIsAlive, readStackFile, type StackFile } from '../../../local/stack-file.ts';
import { outputUntilExit, type ProcessRun } from '../../support/process-output.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let dir: string;
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  file: StackFile;
  path: string;
  output: () => string;
  exited: Promise<number | null>;
}

function childEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, PORT: '0', LOCAL_STACKS_DIR: dir };
  for (const name of [
    'AFFIX_BASE_URL',
    'AFFIX_CLIENT_ID',
    'AFFIX_CLIENT_SECRET',
    'LOCAL_RAW_LOGS',
    'LAMBDA_CONCURRENCY',
  ]) {
    delete env[name];
  }
  env.LAMBDA_CONCURRENCY = '1';
  return env;
}

/** `npm start` until its banner's ready line; its stack file is the one file of its pid's name. */
async function npmStart(): Promise<Started> {
  const before = new Set(await readdir(dir).catch(() => []));
  // A process group of its own, as a terminal gives a command: Ctrl-C signals all of it.
  const child = spawn('npm', ['start'], {
    cwd: repoRoot,
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString('utf8');
      if (output.includes('local API ready on')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    exited.then((code) => reject(new Error(`npm start exited ${code}: ${output}`)));
  });
  const added = (await readdir(dir)).filter((name) => !before.has(name));
  expect(added).toHaveLength(1);
  const path = join(dir, added[0] ?? '');
  return { child, file: await readStackFile(path), path, output: () => output, exited };
}

function npmRun(args: string[]): Promise<ProcessRun> {
  return outputUntilExit(
    spawn('npm', ['run', '--silent', ...args], {
      cwd: repoRoot,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Whether something accepts connections on this URL's port. */
function listening(url: string): Promise<boolean> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const servers = (file: StackFile) =>
  [file.apiUrl, file.affixBaseUrl, file.ssmUrl, file.dynamodbUrl, file.webhookReceiverUrl].filter(
    (url): url is string => url !== null,
  );

/** Whether the sandbox still accepts the default secret (a rotation with grace 0 retires it). */
async function acceptsDefaultSecret(file: StackFile): Promise<boolean> {
  const answer = await fetch(`${file.affixBaseUrl}${CLIENT_PATH}`, {
    headers: { authorization: basicAuthHeader(SANDBOX_DEFAULTS.clientId, SANDBOX_DEFAULTS.clientSecret[0]) },
  });
  return answer.status === 200;
}

/** How many POSTs (client changes) reached this stack's sandbox. */
async function sandboxPosts(file: StackFile): Promise<number> {
  const stats = (await (await fetch(`${file.affixBaseUrl}/_sandbox/stats`)).json()) as {
    requests: { POST: number };
  };
  return stats.requests.POST;
}

let first: Started;
let second: Started;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'npm-start-'));
  first = await npmStart();
  second = await npmStart();
}, 180_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  // npm's SIGKILL does not reach its script: stop the stacks' own processes too.
  for (const stack of [first, second]) {
    if (stack !== undefined && processIsAlive(stack.file.pid)) process.kill(stack.file.pid, 'SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
});

describe('two stacks at once', () => {
  it('each has its own stack file, named after its process, with its own URLs and the receiver', () => {
    expect(first.path).not.toBe(second.path);
    expect(first.path).toBe(join(dir, `${first.file.pid}.json`));
    expect(first.file.apiUrl).not.toBe(second.file.apiUrl);
    expect(first.file.webhookReceiverUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webhooks$/);
    expect(first.output()).toContain(`export API=${first.file.apiUrl} SANDBOX=${first.file.affixBaseUrl}`);
  });

  it('npm run rotate -- --help prints the usage and rotates nothing', async () => {
    const run = await npmRun(['rotate', '--', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: npm run rotate/);
    expect(run.stdout).not.toMatch(/^rotation /m);
    expect(await acceptsDefaultSecret(first.file)).toBe(true);
    expect(await acceptsDefaultSecret(second.file)).toBe(true);
  });

  it('npm run rotate with two stacks names both and rotates neither; --port rotates that one only', async () => {
    const ambiguous = await npmRun(['rotate']);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('2 local stacks are running');
    expect(ambiguous.stderr).toContain(first.path);
    expect(ambiguous.stderr).toContain(second.path);

    const port = new URL(second.file.apiUrl).port;
    const rotated = await npmRun(['rotate', '--', '--port', port]);
    expect(rotated.stderr).toBe('');
    expect(rotated.stdout).toMatch(/^rotation (rotated|waiting-grace): start -> /m);
    expect(rotated.code).toBe(0);
    expect(await sandboxPosts(second.file)).toBeGreaterThan(0);
    expect(await sandboxPosts(first.file)).toBe(0);
  }, 120_000);
});

describe('stopping', () => {
  const toNpm = (stack: Started, signal: NodeJS.Signals) => stack.child.kill(signal);
  /** A terminal's Ctrl-C: the signal reaches npm, tsx and the stack at once. */
  const toGroup = (stack: Started, signal: NodeJS.Signals) => process.kill(-(stack.child.pid ?? 0), signal);
  it.each([
    ['SIGTERM', 'to npm', toNpm, () => first],
    ['SIGINT', 'to the process group (Ctrl-C)', toGroup, () => second],
  ] as const)(
    '%s %s stops every server of the stack once and removes its stack file',
    async (signal, _to, send, which) => {
      const stack = which();
      for (const url of servers(stack.file)) expect(await listening(url), url).toBe(true);
      send(stack, signal);
      // npm exits 0 after its script stopped cleanly; after a Ctrl-C it may report the conventional 130.
      expect([0, 130]).toContain(await stack.exited);
      // npm exits once its script has; the stack's node process must be gone with it, and its servers.
      await expect.poll(() => processIsAlive(stack.file.pid), { timeout: 15_000 }).toBe(false);
      for (const url of servers(stack.file)) expect(await listening(url), url).toBe(false);
      expect((await readdir(dir)).includes(`${stack.file.pid}.json`)).toBe(false);
      // Copies of one signal relayed by npm and tsx are not a second press.
      expect(stack.output()).toContain(`${signal}: shutting down`);
      expect(stack.output()).not.toContain('again: exiting now');
    },
    60_000,
  );
});
