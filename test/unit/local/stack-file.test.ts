/**
 * One stack file per running stack: listing skips files of stacks that are gone, and choosing names
 * the only stack, the one on a port, or says what to do when none or several run.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chooseStack,
  DEFAULT_STACKS_DIR,
  listRunningStacks,
  type RunningStack,
  removeStaleStackFiles,
  type StackFile,
  stackFilePath,
  stacksDir,
} from '../../../local/stack-file.ts';

const file = (pid: number, apiPort: number): StackFile => ({
  pid,
  apiUrl: `http://127.0.0.1:${apiPort}`,
  affixBaseUrl: `http://127.0.0.1:${apiPort + 1}`,
  webhookReceiverUrl: `http://127.0.0.1:${apiPort + 2}/webhooks`,
  ssmUrl: `http://127.0.0.1:${apiPort + 3}`,
  dynamodbUrl: `http://127.0.0.1:${apiPort + 4}`,
  stateTableName: 'affix-webhook-config-local-state',
  clientIdParameter: '/affix/local/client-id',
  clientSecretParameter: '/affix/local/client-secret',
  etagKeyParameter: '/affix/local/etag-key',
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stacks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(stack: StackFile): Promise<string> {
  const path = stackFilePath(dir, stack.pid);
  await writeFile(path, JSON.stringify(stack));
  return path;
}

describe('stacksDir', () => {
  it('is local/.stacks unless LOCAL_STACKS_DIR names another folder', () => {
    expect(stacksDir({})).toBe(DEFAULT_STACKS_DIR);
    expect(stacksDir({ LOCAL_STACKS_DIR: '' })).toBe(DEFAULT_STACKS_DIR);
    expect(stacksDir({ LOCAL_STACKS_DIR: '/srv/stacks' })).toBe('/srv/stacks');
    expect(DEFAULT_STACKS_DIR).toMatch(/local[/\\]\.stacks[/\\]?$/);
  });
});

describe('listRunningStacks', () => {
  it('lists the files whose process runs and skips the others and files that are not stack files', async () => {
    await put(file(101, 3000));
    await put(file(102, 4000));
    await writeFile(join(dir, '103.json'), 'not json');
    await writeFile(join(dir, 'notes.txt'), 'x');
    const alive = new Set([101, 103]);
    const running = await listRunningStacks(dir, (pid) => alive.has(pid));
    expect(running.map((stack) => stack.file.pid)).toEqual([101]);
  });

  it('answers none for a folder that does not exist', async () => {
    expect(await listRunningStacks(join(dir, 'missing'))).toEqual([]);
  });

  it('removeStaleStackFiles removes only the files of stacks that are gone', async () => {
    await put(file(101, 3000));
    await put(file(102, 4000));
    await removeStaleStackFiles(dir, (pid) => pid === 102);
    expect(await readdir(dir)).toEqual(['102.json']);
  });
});

describe('chooseStack', () => {
  const one: RunningStack = { path: '/s/101.json', file: file(101, 3000) };
  const two: RunningStack = { path: '/s/102.json', file: file(102, 4000) };

  it('takes the only running stack', () => {
    expect(chooseStack([one], '/s')).toBe(one);
  });

  it('with several, takes the one on the given port (any of its servers), else lists them', () => {
    expect(chooseStack([one, two], '/s', 4000)).toBe(two);
    expect(chooseStack([one, two], '/s', 3002)).toBe(one);
    expect(() => chooseStack([one, two], '/s')).toThrow(
      /2 local stacks are running; name one with --stack <file> or --port <API port>:\n {2}\/s\/101\.json {2}\(API http:\/\/127\.0\.0\.1:3000\)/,
    );
  });

  it('with none, says to start one; with no stack on the port, says so', () => {
    expect(() => chooseStack([], '/s')).toThrow(
      /no running local stack found in \/s: start one with npm start/,
    );
    expect(() => chooseStack([one], '/s', 9999)).toThrow(/no running local stack listens on port 9999/);
  });
});
