/**
 * The documentation stays true: every `npm run <script>` a Markdown file names exists, every
 * environment variable it names in backticks (or sets in a shell block) is one the code reads, every
 * relative link and `#anchor` resolves, no tracker issue numbers, the README stays a front page, and
 * every shell block marked `sh runnable` in the README and docs/local.md runs, in order, against an
 * `npm start` this test starts (with Affix's rate limits on, as a newcomer gets them), and leaves the
 * client as it found it.
 *
 * A runnable block's info string may name the one non-2xx status its curl answers are expected to
 * have (```sh runnable 412); every other `HTTP/1.1 <status>` line in its output must be 2xx.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS } from '../../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES } from '../../../local/identities.ts';
import { readStackFile, type StackFile } from '../../../local/stack-file.ts';
import { signedFetch } from '../../support/signed-fetch.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Folders that hold no documentation of ours (dependencies, build output, scratch). */
const SKIPPED_DIRS = new Set([
  'node_modules',
  '.git',
  'cdk.out',
  'dist',
  'coverage',
  '.scratch',
  '.work',
  '.stacks',
]);

/** Variables of the AWS CLI the docs set for it; the code never reads them. */
const AWS_CLI_VARIABLES = new Set(['AWS_DEFAULT_REGION']);

function walk(dir: string, keep: (path: string) => boolean, found: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIPPED_DIRS.has(name)) walk(path, keep, found);
    } else if (keep(path)) found.push(path);
  }
  return found;
}

const markdownFiles = walk(repoRoot, (path) => path.endsWith('.md')).sort();
const rel = (path: string) => relative(repoRoot, path).split('\\').join('/');

interface Block {
  info: string;
  code: string;
  line: number;
}

/** The text outside fenced code blocks (each fenced line blanked, so line numbers stay), and the blocks. */
function splitMarkdown(text: string): { prose: string; blocks: Block[] } {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  const prose: string[] = [];
  let open: { fence: string; indent: number; info: string; start: number; code: string[] } | undefined;
  lines.forEach((line, index) => {
    const fence = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(line);
    if (open === undefined && fence?.[2] !== undefined) {
      const indent = fence[1]?.length ?? 0;
      open = { fence: fence[2], indent, info: (fence[3] ?? '').trim(), start: index + 1, code: [] };
      prose.push('');
    } else if (
      open !== undefined &&
      line.trim().startsWith(open.fence) &&
      line.trim().replace(/[`~]/g, '') === ''
    ) {
      blocks.push({ info: open.info, code: open.code.join('\n'), line: open.start });
      open = undefined;
      prose.push('');
    } else if (open !== undefined) {
      // A block inside a list item is indented like its fence: its lines lose that indent only.
      open.code.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
      prose.push('');
    } else prose.push(line);
  });
  return { prose: prose.join('\n'), blocks };
}

const docs = markdownFiles.map((path) => ({
  path,
  text: readFileSync(path, 'utf8'),
  ...splitMarkdown(readFileSync(path, 'utf8')),
}));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchorsOf(path: string): Set<string> {
  const { prose } = splitMarkdown(readFileSync(path, 'utf8'));
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const match of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (match[1] ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

describe('the Markdown files', () => {
  it('are found (README, SECURITY and the docs folder)', () => {
    const names = markdownFiles.map(rel);
    for (const name of ['README.md', 'SECURITY.md', 'docs/local.md', 'docs/api.md'])
      expect(names).toContain(name);
  });

  it('name only npm scripts that exist', () => {
    const rootScripts = Object.keys(
      (
        JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
          scripts: Record<string, string>;
        }
      ).scripts,
    );
    const clientScripts = Object.keys(
      (
        JSON.parse(readFileSync(join(repoRoot, 'clients/package.json'), 'utf8')) as {
          scripts: Record<string, string>;
        }
      ).scripts,
    );
    const missing: string[] = [];
    let named = 0;
    for (const doc of docs) {
      for (const match of doc.text.matchAll(/npm run(?:\s+--?[a-z-]+)*\s+([a-z][\w:.-]*)([^\n`]*)/g)) {
        const script = match[1] ?? '';
        named += 1;
        const scripts = /(^|\s)(-w|--workspace)[\s=]clients\b/.test(match[2] ?? '')
          ? clientScripts
          : rootScripts;
        if (!scripts.includes(script)) missing.push(`${rel(doc.path)}: npm run ${script}`);
      }
    }
    expect(named).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('name only environment variables the code reads (in backticks, or set in a shell block)', () => {
    const source = walk(
      repoRoot,
      (path) => /\.(ts|mjs|js|json|sh)$/.test(path) && !rel(path).startsWith('test/integration/docs/'),
    )
      .filter((path) => !rel(path).endsWith('package-lock.json') && !rel(path).startsWith('openapi'))
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n');
    const envLike = /\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b/g;
    const unknown = new Set<string>();
    let named = 0;
    for (const doc of docs) {
      const names = new Set<string>();
      for (const span of doc.prose.matchAll(/`([^`\n]+)`/g)) {
        for (const name of (span[1] ?? '').matchAll(envLike)) names.add(name[0]);
      }
      for (const block of doc.blocks.filter((b) => /^(sh|bash|shell)\b/.test(b.info))) {
        for (const name of block.code.matchAll(/\b([A-Z][A-Z0-9]*_[A-Z0-9_]*)=/g)) names.add(name[1] ?? '');
      }
      for (const name of names) {
        named += 1;
        if (AWS_CLI_VARIABLES.has(name)) continue;
        if (!new RegExp(`\\b${name}\\b`).test(source)) unknown.add(`${rel(doc.path)}: ${name}`);
      }
    }
    expect(named).toBeGreaterThan(30);
    expect([...unknown]).toEqual([]);
  });

  it('link only to files and #anchors that exist', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const doc of docs) {
      for (const match of doc.prose.matchAll(/\[[^\]\n]*\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? '';
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        checked += 1;
        const [file = '', anchor] = target.split('#');
        const path = file === '' ? doc.path : resolve(dirname(doc.path), decodeURIComponent(file));
        if (!existsSync(path)) {
          broken.push(`${rel(doc.path)}: ${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && anchor !== '') {
          if (!path.endsWith('.md'))
            broken.push(`${rel(doc.path)}: ${target} (anchor into a file that is not Markdown)`);
          else if (!anchorsOf(path).has(anchor)) broken.push(`${rel(doc.path)}: ${target} (no such heading)`);
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(broken).toEqual([]);
  });

  it('name test files that exist (SECURITY.md proves each control with one)', () => {
    const missing: string[] = [];
    for (const doc of docs) {
      for (const match of doc.prose.matchAll(/`(test\/[\w./-]+\.test\.ts)`/g)) {
        if (!existsSync(join(repoRoot, match[1] ?? ''))) missing.push(`${rel(doc.path)}: ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('cite no tracker issue numbers (history is git log)', () => {
    const cited = docs.flatMap((doc) =>
      doc.text
        .split('\n')
        .map((line, index) => ({ line, index }))
        .filter(({ line }) => /\b[Ii]ssues? #?[0-9]+/.test(line))
        .map(({ index }) => `${rel(doc.path)}:${index + 1}`),
    );
    expect(cited).toEqual([]);
  });

  it('keep the README a front page: at most 15,000 bytes', () => {
    expect(Buffer.byteLength(readFileSync(join(repoRoot, 'README.md'), 'utf8'))).toBeLessThanOrEqual(15_000);
  });
});

/** The runnable blocks, README first, then docs/local.md, then any other document, in order. */
function runnableBlocks(): { doc: string; block: Block; expected: number | undefined }[] {
  const order = (path: string) => (rel(path) === 'README.md' ? 0 : rel(path) === 'docs/local.md' ? 1 : 2);
  return [...docs]
    .sort((a, b) => order(a.path) - order(b.path) || a.path.localeCompare(b.path))
    .flatMap((doc) =>
      doc.blocks
        .filter((block) => /^sh\s+runnable\b/.test(block.info))
        .map((block) => {
          const status = /runnable\s+(\d{3})/.exec(block.info)?.[1];
          return { doc: rel(doc.path), block, expected: status === undefined ? undefined : Number(status) };
        }),
    );
}

describe('the runnable examples, against npm start', () => {
  let stacksDir: string;
  let child: ChildProcess | undefined;
  let output = '';
  let file: StackFile;

  beforeAll(async () => {
    stacksDir = mkdtempSync(join(tmpdir(), 'docs-stack-'));
    const env: Record<string, string | undefined> = {
      ...process.env,
      PORT: '0',
      LOCAL_STACKS_DIR: stacksDir,
    };
    for (const name of [
      'AFFIX_BASE_URL',
      'AFFIX_CLIENT_ID',
      'AFFIX_CLIENT_SECRET',
      'AFFIX_SANDBOX_RATE_LIMITS',
    ]) {
      delete env[name];
    }
    child = spawn('npm', ['start'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = child;
    await new Promise<void>((resolveReady, reject) => {
      const onData = (data: Buffer) => {
        output += data.toString('utf8');
        if (output.includes('local API ready on')) resolveReady();
      };
      started.stdout?.on('data', onData);
      started.stderr?.on('data', onData);
      started.once('exit', (code) => reject(new Error(`npm start exited ${code}: ${output}`)));
    });
    const [name] = readdirSync(stacksDir);
    file = await readStackFile(join(stacksDir, name ?? ''));
  }, 120_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((done) => child?.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(stacksDir, { recursive: true, force: true });
  });

  it('run in order, each answer 2xx or the status its block names, within the rate limits, and restore the client', async () => {
    const blocks = runnableBlocks();
    expect(blocks.filter((entry) => entry.doc === 'README.md').length).toBeGreaterThanOrEqual(2);
    expect(blocks.filter((entry) => entry.doc === 'docs/local.md').length).toBeGreaterThanOrEqual(8);
    expect(blocks.some((entry) => entry.block.code.includes('npm run rotate'))).toBe(true);

    // One shell for all blocks, as a reader pastes them into one terminal: variables carry over.
    const script = [
      'set -euo pipefail',
      // A curl answer ends without a newline: each marker starts its own line.
      ...blocks.flatMap((entry, index) => [`printf '\\n::block ${index}::\\n'`, entry.block.code]),
      "printf '\\n::end::\\n'",
    ].join('\n');
    const webhookUri = (file.webhookReceiverUrl ?? '').replace(/^http:/, 'https:');
    const shellEnv = {
      ...process.env,
      API: file.apiUrl,
      SANDBOX: file.affixBaseUrl,
      WEBHOOK_URI: webhookUri,
      LOCAL_STACKS_DIR: stacksDir,
    };
    const shell = spawn('bash', ['-c', script], { cwd: repoRoot, env: shellEnv });
    let stdout = '';
    let stderr = '';
    shell.stdout.on('data', (data: Buffer) => {
      stdout += data.toString('utf8');
    });
    shell.stderr.on('data', (data: Buffer) => {
      stderr += data.toString('utf8');
    });
    const code = await new Promise<number | null>((done) => shell.once('exit', done));
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain('::end::');

    const parts = stdout.split(/^::block (\d+)::$/m);
    for (let index = 1; index < parts.length; index += 2) {
      const entry = blocks[Number(parts[index])];
      const text = (parts[index + 1] ?? '').split('::end::')[0] ?? '';
      const statuses = [...text.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)].map((match) => Number(match[1]));
      for (const status of statuses) {
        const allowed = (status >= 200 && status < 300) || status === entry?.expected;
        expect(allowed, `${entry?.doc}:${entry?.block.line} answered ${status}:\n${text}`).toBe(true);
      }
      if (entry?.expected !== undefined)
        expect(statuses, `${entry.doc}:${entry.block.line}`).toContain(entry.expected);
    }
    expect(stdout).toMatch(/^rotation (rotated|waiting-grace): start -> /m);
    expect(stdout).toContain('"valid":true');

    // No 429 anywhere, and the webhook walk-through's verdict was printed by npm start.
    const afterBanner = output.slice(output.indexOf('local API ready on'));
    expect(afterBanner).not.toMatch(/ 429 |upstream-rate-limited|\[affix-sandbox\]/);
    expect(afterBanner).toMatch(/webhook delivery \d+ bytes -> POST \/webhooks\/verify 200 valid/);

    // The examples put back what they changed (the rotation's new secret is the one lasting change).
    const answer = await signedFetch(
      `${file.apiUrl}/client`,
      { headers: { 'cache-control': 'no-cache' } },
      LOCAL_IDENTITIES.readers,
    );
    expect(answer.status).toBe(200);
    const client = (await answer.json()) as Record<string, unknown>;
    expect(client).toMatchObject({
      name: SANDBOX_DEFAULTS.name,
      webhook_uri: SANDBOX_DEFAULTS.webhookUri,
      redirect_uris: [...SANDBOX_DEFAULTS.redirectUris],
    });
    expect(client.client_secret).toHaveLength(1);
  }, 300_000);
});
