/**
 * The client as a caller gets it: `npm pack` of the `clients` workspace (its `prepack` builds it), the
 * tarball installed into a fresh empty project with no network (see support/consumer-project.ts), then
 * plain Node 22 JavaScript that imports it and calls a SigV4-checking stand-in on 127.0.0.1, and a
 * TypeScript consumer type-checked with `tsc --noEmit` against the published `.d.ts`.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEMS } from '../../functions/contract/problems.ts';
import { consumerProject } from './support/consumer-project.ts';
import { type SignedRequest, sigV4Problem } from './support/sigv4.ts';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE = '@affix-webhook-config/client';
const CREDENTIALS = { accessKeyId: 'local-reader', secretAccessKey: 'local-reader-secret' };

/** Our environment without npm's own `npm_*` settings (set by `npm test`), which a nested npm would obey. */
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

const CONSUMER_MJS = `
import { ClientConfigError, createClientConfigClient, PROBLEMS } from '${PACKAGE}';
const api = createClientConfigClient({
  baseUrl: process.env.BASE_URL,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local-reader', secretAccessKey: 'local-reader-secret' },
});
const { client, etag } = await api.getClient();
let failure;
try {
  await api.updateClient({ name: 'Renamed' }, { ifMatch: etag });
} catch (error) {
  failure = { isClientConfigError: error instanceof ClientConfigError, slug: error.slug, status: error.status };
}
console.log(JSON.stringify({ client, etag, failure, problems: Object.keys(PROBLEMS).length }));
`;

const CONSUMER_TS = `
import { type ClientConfigClient, ClientConfigError, createClientConfigClient } from '${PACKAGE}';

const api: ClientConfigClient = createClientConfigClient({ baseUrl: 'https://api.example.com/prod', region: 'eu-west-1' });

export async function rename(name: string): Promise<string> {
  try {
    const { etag } = await api.getClient();
    return (await api.updateClient({ name }, { ifMatch: etag })).client.name;
  } catch (error) {
    if (error instanceof ClientConfigError && error.slug === 'precondition-failed') return 'changed meanwhile';
    throw error;
  }
}

// The published types are real types, not \`any\`: each of these must be an error.
// @ts-expect-error secrets change only through replaceSecrets
await api.updateClient({ client_secret: ['x'] });
// @ts-expect-error an ETag is a string
export const wrong: number = (await api.getClient()).etag;
// @ts-expect-error no such slug
export const slug: ClientConfigError['slug'] = 'no-such-slug';
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2023',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    types: ['node'],
    // Library internals (the AWS SDK's) are not ours to check; @ts-expect-error above proves ours resolve.
    skipLibCheck: true,
  },
  files: ['use.ts'],
};

/** A stand-in of the stage: checks each SigV4 signature; GET answers the client, PATCH a 412 problem. */
function startStandIn(seen: SignedRequest[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' };
      request.body = Buffer.concat(chunks).toString('utf8');
      seen.push(request);
      const problem = sigV4Problem(request, { ...CREDENTIALS, region: 'us-east-1', service: 'execute-api' });
      if (problem !== undefined) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: problem }));
      } else if (request.method === 'GET') {
        const client = {
          client_id: 'c-1',
          name: 'App',
          redirect_uris: [],
          webhook_uri: null,
          client_secret: ['****abcd'],
        };
        res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end(JSON.stringify(client));
      } else {
        const document = {
          type: 'urn:affix-webhook-config:problem:precondition-failed',
          title: 'If-Match does not match the current client',
          status: 412,
          detail: 'changed',
          instance: 'req-1',
        };
        res.writeHead(412, { 'content-type': 'application/problem+json' }).end(JSON.stringify(document));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('the packed client, installed into an empty project', () => {
  let work: string;
  let consumer: string;
  let files: string[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'client-pack-'));
    const { stdout } = await run('npm', ['pack', '-w', 'clients', '--pack-destination', work, '--json'], {
      cwd: REPO,
      env: npmEnv,
    });
    const [packed] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    files = packed.files.map((file) => file.path);
    consumer = join(work, 'consumer');
    const project = consumerProject(
      join(REPO, 'package-lock.json'),
      'clients',
      PACKAGE,
      join(work, packed.filename),
      ['@types/node'],
    );
    await mkdir(consumer);
    await Promise.all([
      writeFile(join(consumer, 'package.json'), project['package.json']),
      writeFile(join(consumer, 'package-lock.json'), project['package-lock.json']),
      writeFile(join(consumer, 'use.mjs'), CONSUMER_MJS),
      writeFile(join(consumer, 'use.ts'), CONSUMER_TS),
      writeFile(join(consumer, 'tsconfig.json'), JSON.stringify(TSCONFIG)),
    ]);
    // --offline: every tarball from the local cache; the test never reaches a registry.
    await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: consumer,
      env: npmEnv,
    });
    // npm pack runs the workspace's build; npm ci installs offline: minutes on a busy machine.
  }, 300_000);

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('holds the built client and the contract modules it uses, and no function code', () => {
    expect(files).toContain('package.json');
    expect(files).toContain('dist/clients/index.js');
    expect(files).toContain('dist/clients/index.d.ts');
    expect(files.filter((path) => path.includes('client-config'))).toContain(
      'dist/clients/client-config-client.js',
    );
    for (const path of files) {
      expect(path).not.toMatch(/functions\/(?!contract\/)/);
      expect(path).not.toMatch(/\.ts$(?<!\.d\.ts)/);
      expect(path).toMatch(
        /^(package\.json|README\.md|dist\/(clients|functions\/contract)\/[\w-]+\.(js|d\.ts))$/,
      );
    }
  });

  it('runs from plain Node 22 JavaScript against a local stand-in', async () => {
    const seen: SignedRequest[] = [];
    const server = await startStandIn(seen);
    try {
      const { port } = server.address() as AddressInfo;
      const { stdout } = await run(process.execPath, ['use.mjs'], {
        cwd: consumer,
        env: { PATH: process.env.PATH ?? '', BASE_URL: `http://127.0.0.1:${port}/local` },
      });
      expect(JSON.parse(stdout)).toEqual({
        client: {
          client_id: 'c-1',
          name: 'App',
          redirect_uris: [],
          webhook_uri: null,
          client_secret: ['****abcd'],
        },
        etag: '"v1"',
        failure: { isClientConfigError: true, slug: 'precondition-failed', status: 412 },
        problems: Object.keys(PROBLEMS).length,
      });
      expect(seen.map((request) => `${request.method} ${request.url}`)).toEqual([
        'GET /local/client',
        'PATCH /local/client',
      ]);
      expect(seen[1]?.headers['if-match']).toBe('"v1"');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('type-checks a TypeScript consumer (tsc --noEmit)', async () => {
    const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--singleThreaded'], {
      cwd: consumer,
    }).catch((error: { stdout?: string }) => ({ stdout: `tsc failed:\n${error.stdout ?? String(error)}` }));
    expect(result.stdout).toBe('');
  });
});
