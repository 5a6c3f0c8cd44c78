/**
 * The typed client end to end against what `npm start` runs (local/start.ts as a child process: the
 * real handler behind the local API Gateway stand-in, the in-memory Affix sandbox, the local SSM
 * endpoint). The stand-in checks the client's SigV4 signature as API Gateway does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientConfigClient, createClientConfigClient } from '../../clients/index.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { whileLockBusy } from '../support/lock-busy.ts';
import { failure } from './support/failure.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const SANDBOX_SECRET = 'sandbox-secret-aaaaaaaaaaaaaaaa';
const NEW_SECRET = 'sandbox-secret-bbbbbbbbbbbbbbbb';

let child: ChildProcess;
let exited: Promise<number | null>;
let output = '';
let api: ClientConfigClient;

/** Starts `tsx local/start.ts` (what `npm start` runs) on an ephemeral port; resolves with its URL. */
function startLocalStack(): Promise<string> {
  const env: Record<string, string | undefined> = { ...process.env, PORT: '0' };
  for (const name of ['AFFIX_BASE_URL', 'AFFIX_CLIENT_ID', 'AFFIX_CLIENT_SECRET', 'LOCAL_HANDLER_MODULE']) {
    delete env[name];
  }
  // node --import tsx, as `tsx` does, without the npx/tsx wrapper processes in between: the signal
  // that stops it reaches the stack itself.
  child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  // No deadline of its own: the hook's timeout bounds the start-up.
  return new Promise((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString('utf8');
      const match = /ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    exited.then((code) => reject(new Error(`local stack exited with ${code} before ready:\n${output}`)));
  });
}

beforeAll(async () => {
  const url = await startLocalStack();
  api = createClientConfigClient({
    baseUrl: url,
    region: 'us-east-1',
    // The rotator: its group may call every route (npm start verifies signatures and grants per group).
    credentials: LOCAL_IDENTITIES.rotators,
    // Generous: the stack shares a busy machine; no answer here is about latency.
    timeoutMs: 60_000,
  });
  // npm start bundles the handler and warms an environment before it is ready.
}, 180_000);

afterAll(async () => {
  if (child === undefined || child.exitCode !== null) return;
  child.kill('SIGTERM');
  // The stack's own shutdown exits within its 5 s grace; the hook's timeout catches a hang.
  expect(await exited).toBe(0);
}, 60_000);

describe('the client against npm start (sequential: each step builds on the last)', () => {
  let firstEtag: string;
  let currentEtag: string;

  it('GET: the sandbox client, secrets masked, with an ETag', async () => {
    const { client, etag } = await api.getClient();
    expect(client).toEqual({
      client_id: 'sandbox-client-0001',
      name: 'Sandbox App',
      redirect_uris: ['https://app.example.com/callback'],
      webhook_uri: 'https://hooks.example.com/affix',
      client_secret: ['****aaaa'],
    });
    expect(etag).toMatch(/^"[^"]+"$/);
    firstEtag = etag;
  });

  it('PATCH webhook_uri with If-Match: changed in Affix, new ETag', async () => {
    const { client, etag } = await whileLockBusy(() =>
      api.updateClient({ webhook_uri: 'https://hooks.example.com/affix-v2' }, { ifMatch: firstEtag }),
    );
    expect(client.webhook_uri).toBe('https://hooks.example.com/affix-v2');
    expect(client.name).toBe('Sandbox App');
    expect(etag).not.toBe(firstEtag);
    currentEtag = etag;
    expect(await api.getClient()).toEqual({ client, etag });
  });

  it('PATCH with the stale ETag: 412 precondition-failed, nothing changed', async () => {
    const error = await failure(
      whileLockBusy(() => api.updateClient({ webhook_uri: null }, { ifMatch: firstEtag })),
    );
    expect(error).toMatchObject({
      slug: 'precondition-failed',
      type: 'urn:affix-webhook-config:problem:precondition-failed',
      status: 412,
      title: 'If-Match does not match the current client',
    });
    expect(error.instance).toMatch(/^[0-9a-f-]{36}$/);
    expect((await api.getClient()).client.webhook_uri).toBe('https://hooks.example.com/affix-v2');
  });

  it('PATCH an invalid body: 400 validation-failed with per-field errors', async () => {
    const error = await failure(
      api.updateClient(
        { webhook_uri: 'http://insecure.example.com/hook', name: '   ' },
        { ifMatch: currentEtag },
      ),
    );
    expect(error).toMatchObject({ slug: 'validation-failed', status: 400 });
    expect(error.errors).toEqual([
      { pointer: '/name', detail: 'name must not be empty' },
      { pointer: '/webhook_uri', detail: expect.stringMatching(/https:\/\//) },
    ]);
  });

  it('PUT /client/secrets: adds a secret, and refuses (409) a list that would lock the proxy out', async () => {
    const { client, etag } = await whileLockBusy(() =>
      api.replaceSecrets([SANDBOX_SECRET, NEW_SECRET], { ifMatch: currentEtag }),
    );
    expect(client.client_secret).toEqual(['****aaaa', '****bbbb']);
    const error = await failure(whileLockBusy(() => api.replaceSecrets([NEW_SECRET], { ifMatch: etag })));
    expect(error).toMatchObject({ slug: 'would-lock-out', status: 409 });
    expect((await api.getClient()).etag).toBe(etag);
  });
});
