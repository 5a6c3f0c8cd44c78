/**
 * `npm run rotate`'s arguments: `--help` rotates nothing, `--stack` and `--port` name a stack, anything
 * else is refused before a rotation could start; and `findStack` reads the file `--stack` names.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findStack, parseRotateArguments, ROTATE_USAGE } from '../../../local/rotate.ts';

describe('parseRotateArguments', () => {
  it('--help and -h ask for the usage, which names both ways to pick a stack', () => {
    expect(parseRotateArguments(['--help'])).toEqual({ help: true, stackFile: undefined, port: undefined });
    expect(parseRotateArguments(['-h']).help).toBe(true);
    expect(ROTATE_USAGE).toMatch(/--stack <file>/);
    expect(ROTATE_USAGE).toMatch(/--port <port>/);
    expect(ROTATE_USAGE).toMatch(/rotates nothing/);
  });

  it('takes --stack <file> or --port <port>, not both', () => {
    expect(parseRotateArguments(['--stack', 'local/.stacks/1.json']).stackFile).toBe('local/.stacks/1.json');
    expect(parseRotateArguments(['--port', '3000']).port).toBe(3000);
    expect(() => parseRotateArguments(['--stack', 'a.json', '--port', '3000'])).toThrow(/not both/);
  });

  it('refuses unknown arguments, missing values and bad ports', () => {
    expect(() => parseRotateArguments(['--force'])).toThrow(/unknown argument "--force".*--help/);
    expect(() => parseRotateArguments(['--stack'])).toThrow(/--stack needs a value/);
    expect(() => parseRotateArguments(['--port', '--help'])).toThrow(/--port needs a value/);
    expect(() => parseRotateArguments(['--port', '70000'])).toThrow(/port number/);
    expect(() => parseRotateArguments(['--port', '3e3'])).toThrow(/port number/);
  });
});

describe('findStack', () => {
  it('reads the file --stack names, and says when it is missing or not a stack file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rotate-'));
    try {
      const path = join(dir, '42.json');
      await writeFile(
        path,
        JSON.stringify({ pid: 42, apiUrl: 'http://127.0.0.1:1', ssmUrl: 'http://127.0.0.1:2' }),
      );
      expect((await findStack({ stackFile: path, port: undefined }, {})).apiUrl).toBe('http://127.0.0.1:1');
      await expect(findStack({ stackFile: join(dir, 'none.json'), port: undefined }, {})).rejects.toThrow(
        /no stack file at .*none\.json: start a stack with npm start/,
      );
      await writeFile(path, '{}');
      await expect(findStack({ stackFile: path, port: undefined }, {})).rejects.toThrow(/not a stack file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without --stack, looks in LOCAL_STACKS_DIR and says to start a stack when none runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rotate-'));
    try {
      await expect(
        findStack({ stackFile: undefined, port: undefined }, { LOCAL_STACKS_DIR: dir }),
      ).rejects.toThrow(/no running local stack found .*npm start/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
