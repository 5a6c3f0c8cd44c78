import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basicAuthHeader,
  CLIENT_PATH,
  SANDBOX_DEFAULTS,
  startAffixSandbox,
} from '../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { signedFetch } from '../support/signed-fetch.ts';
import { type Gate, startGate } from './support/gate.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A throwaway handler written at test time (never committed): it records the environment it saw
 * when its module was loaded, which is what the real handler parses its configuration from.
 */
const FAKE_HANDLER = `
const atLoad = {
  AFFIX_BASE_URL: process.env.AFFIX_BASE_URL,
  AWS_ENDPOINT_URL_SSM: process.env.AWS_ENDPOINT_URL_SSM,
  AWS_ENDPOINT_URL_DYNAMODB: process.env.AWS_ENDPOINT_URL_DYNAMODB,
  STATE_TABLE_NAME: process.env.STATE_TABLE_NAME,
  AFFIX_CLIENT_ID_PARAMETER: process.env.AFFIX_CLIENT_ID_PARAMETER,
  AFFIX_CLIENT_SECRET_PARAMETER: process.env.AFFIX_CLIENT_SECRET_PARAMETER,
  ETAG_KEY_PARAMETER: process.env.ETAG_KEY_PARAMETER,
  STAGE: process.env.STAGE,
  secretInEnv: 'AFFIX_CLIENT_SECRET' in process.env,
};
let invocations = 0;
export const handler = async (event, context) => {
  invocations += 1;
  const hold = event.queryStringParameters?.hold;
  if (hold) await (await fetch(hold)).text();
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ atLoad, userArn: event.requestContext.identity.userArn, resource: event.resource,
      remaining: context.getRemainingTimeInMillis(), invocations }),
  };
};
`;

interface AtLoad {
  AFFIX_BASE_URL: string;
  AWS_ENDPOINT_URL_SSM: string;
  AWS_ENDPOINT_URL_DYNAMODB: string;
  STATE_TABLE_NAME: string;
  AFFIX_CLIENT_ID_PARAMETER: string;
  AFFIX_CLIENT_SECRET_PARAMETER: string;
  ETAG_KEY_PARAMETER: string;
  STAGE: string;
  secretInEnv: boolean;
}

let dir: string;
let gate: Gate;
/** The ETag key parameter the first stack of this file held, to see that each start makes a new one. */
let firstEtagKey: string | undefined;
let fakeHandler: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  gate = await startGate();
  dir = mkdtempSync(join(tmpdir(), 'affix-start-'));
  fakeHandler = join(dir, 'handler.mjs');
  writeFileSync(fakeHandler, FAKE_HANDLER);
});
afterAll(async () => {
  await gate.close();
  rmSync(dir, { recursive: true, force: true });
});
// The tests of a describe block share a stack: whatever a failed test left running ends here.
afterAll(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Started {
  child: ChildProcess;
  apiUrl: string;
  output: () => string;
  exited: Promise<number | null>;
}

function startStack(env: Record<string, string>): Promise<Started> {
  const childEnv: Record<string, string | undefined> = { ...process.env, PORT: '0', ...env };
  for (const name of ['AFFIX_BASE_URL', 'AFFIX_CLIENT_ID', 'AFFIX_CLIENT_SECRET']) {
    if (!(name in env)) delete childEnv[name];
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: repoRoot,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // No deadline of its own: the test's timeout bounds the start-up (tsx and a warm environment).
  return new Promise((resolve, reject) => {
    const onData = (data: Buffer): void => {
      output += data.toString('utf8');
      const match = /ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve({ child, apiUrl: match[1], output: () => output, exited });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    exited.then((code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
}

async function callFake(apiUrl: string): Promise<{ atLoad: AtLoad; userArn: string; resource: string }> {
  const res = await signedFetch(`${apiUrl}/client`, {}, LOCAL_IDENTITIES.readers);
  expect(res.status).toBe(200);
  return (await res.json()) as { atLoad: AtLoad; userArn: string; resource: string };
}

async function readCredentials(ssmUrl: string): Promise<string[]> {
  const ssm = new SSMClient({
    region: 'us-east-1',
    endpoint: ssmUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const out = await ssm.send(
      new GetParametersCommand({
        Names: ['/affix/local/client-id', '/affix/local/client-secret', '/affix/local/etag-key'],
        WithDecryption: true,
      }),
    );
    return (out.Parameters ?? []).map((p) => `${p.Name}=${p.Type}:${p.Value}`);
  } finally {
    ssm.destroy();
  }
}

async function listTables(dynamodbUrl: string): Promise<string[]> {
  const dynamodb = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamodbUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    return (await dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
  } finally {
    dynamodb.destroy();
  }
}

/**
 * Affix's rate limit on the stack's sandbox (40 a minute per IP): GETs up to the 40th since the sandbox
 * started pass, the 41st answers `expected` (429 with the limits on, 200 with them off), and the stats
 * count them. The banner prints the stats and faults curls.
 */
async function checkSandboxRateLimits(stack: Started, expected: 200 | 429): Promise<void> {
  const { atLoad } = await callFake(stack.apiUrl);
  const base = atLoad.AFFIX_BASE_URL;
  expect(stack.output()).toContain(`curl -s ${base}/_sandbox/stats`);
  expect(stack.output()).toContain(
    `curl -s ${base}/_sandbox/faults -d '{"status":429,"retryAfter":60,"count":1}'`,
  );
  expect(stack.output()).toContain(expected === 200 ? 'rate limits off' : 'rate limits on: 40/min per IP');
  const stats = async () =>
    (await (await fetch(`${base}/_sandbox/stats`)).json()) as {
      requests: { GET: number; POST: number };
      rateLimited: number;
    };
  // Earlier tests on this stack may have made a GET or two; none was refused.
  const before = await stats();
  expect(before).toMatchObject({ requests: { POST: 0 }, rateLimited: 0 });
  expect(before.requests.GET).toBeLessThan(40);
  const get = () =>
    fetch(`${base}${CLIENT_PATH}`, {
      headers: {
        authorization: basicAuthHeader(SANDBOX_DEFAULTS.clientId, SANDBOX_DEFAULTS.clientSecret[0]),
      },
    });
  // The limiter counts requests, not their order: the ones up to the 40th may arrive together.
  const within = await Promise.all(Array.from({ length: 40 - before.requests.GET }, get));
  expect(within.map((res) => res.status)).toEqual(within.map(() => 200));
  const last = await get();
  expect(last.status).toBe(expected);
  expect(await stats()).toEqual({ requests: { GET: 41, POST: 0 }, rateLimited: expected === 429 ? 1 : 0 });
}

async function stopsWith(stack: Started, signal: NodeJS.Signals): Promise<void> {
  stack.child.kill(signal);
  expect(await stack.exited).toBe(0);
  await expect(fetch(`${stack.apiUrl}/client`)).rejects.toThrow();
}

// npm start's entry point in a child (tsx, the stand-ins, a warm environment). A start costs seconds of
// CPU: the tests of a describe block share one stack, in the order written.
describe('local/start.ts as a child process, with the defaults', { timeout: 120_000 }, () => {
  let stack: Started;
  beforeAll(async () => {
    stack = await startStack({ LOCAL_HANDLER_MODULE: fakeHandler });
  }, 120_000);

  it('wires sandbox, SSM and handler and sets the env before the import', async () => {
    const seen = await callFake(stack.apiUrl);
    expect(seen.atLoad).toMatchObject({
      AFFIX_CLIENT_ID_PARAMETER: '/affix/local/client-id',
      AFFIX_CLIENT_SECRET_PARAMETER: '/affix/local/client-secret',
      ETAG_KEY_PARAMETER: '/affix/local/etag-key',
      STAGE: 'local',
      secretInEnv: false,
    });
    expect(seen.atLoad.AFFIX_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // npm start verifies signatures: the caller is the signer, and unsigned requests never reach the handler.
    expect(seen.userArn).toBe('arn:aws:sts::000000000000:assumed-role/local-reader/local');
    const unsigned = await fetch(`${stack.apiUrl}/client`);
    expect(unsigned.status).toBe(403);
    expect(((await unsigned.json()) as { type: string }).type).toMatch(/:missing-signature$/);
    expect(seen.resource).toBe('/client');

    // SSM holds the sandbox credentials, and they authenticate against the sandbox the handler uses.
    const id = SANDBOX_DEFAULTS.clientId;
    const secret = SANDBOX_DEFAULTS.clientSecret[0];
    const [clientId, clientSecret, etagKey = ''] = await readCredentials(seen.atLoad.AWS_ENDPOINT_URL_SSM);
    expect([clientId, clientSecret]).toEqual([
      `/affix/local/client-id=String:${id}`,
      `/affix/local/client-secret=SecureString:${secret}`,
    ]);
    // The ETag key: a SecureString of 32 random bytes, never printed.
    const key = etagKey.replace('/affix/local/etag-key=SecureString:', '');
    expect(key).not.toBe(etagKey);
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(stack.output()).not.toContain(key);
    firstEtagKey = etagKey;
    const upstream = await fetch(`${seen.atLoad.AFFIX_BASE_URL}${CLIENT_PATH}`, {
      headers: { authorization: basicAuthHeader(id, secret) },
    });
    expect(upstream.status).toBe(200);

    // A real DynamoDB engine holds the state table the handler is told to use.
    expect(await listTables(seen.atLoad.AWS_ENDPOINT_URL_DYNAMODB)).toEqual([seen.atLoad.STATE_TABLE_NAME]);
    expect(stack.output()).toContain(seen.atLoad.AWS_ENDPOINT_URL_DYNAMODB);

    expect(stack.output()).toContain('PUT');
    const sigv4 = 'curl --aws-sigv4 "aws:amz:us-east-1:execute-api"';
    expect(stack.output()).toContain(
      `${sigv4} --user local-reader:local-reader-secret -si ${stack.apiUrl}/client`,
    );
    expect(stack.output()).toContain(
      `${sigv4} --user local-writer:local-writer-secret -si -X PATCH ${stack.apiUrl}/client`,
    );
    expect(stack.output()).toContain(
      `${sigv4} --user local-rotator:local-rotator-secret -si -X PUT ${stack.apiUrl}/client/secrets`,
    );
    expect(stack.output()).toContain('local-verifier:local-verifier-secret');
    expect(stack.output()).toMatch(/if-match/i);
  });

  it("enforces Affix's rate limits by default and prints the stats and faults curls", async () => {
    await checkSandboxRateLimits(stack, 429);
  });

  it('stops on SIGTERM', async () => {
    await stopsWith(stack, 'SIGTERM');
  });
});

it('uses an external Affix API when all three AFFIX_* variables are set, never printing the secret', async () => {
  const secret = 'external-secret-zzzzzzzzzzzzzzzz';
  const external = await startAffixSandbox({
    port: 0,
    client: { client_id: 'external-client', client_secret: [secret], name: 'Ext', redirect_uris: [] },
  });
  try {
    const stack = await startStack({
      LOCAL_HANDLER_MODULE: fakeHandler,
      AFFIX_BASE_URL: external.url,
      AFFIX_CLIENT_ID: 'external-client',
      AFFIX_CLIENT_SECRET: secret,
    });
    const seen = await callFake(stack.apiUrl);
    expect(seen.atLoad.AFFIX_BASE_URL).toBe(external.url);
    expect(seen.atLoad.secretInEnv).toBe(false);
    const [clientId, clientSecret, etagKey = ''] = await readCredentials(seen.atLoad.AWS_ENDPOINT_URL_SSM);
    expect([clientId, clientSecret]).toEqual([
      '/affix/local/client-id=String:external-client',
      `/affix/local/client-secret=SecureString:${secret}`,
    ]);
    // A fresh key per start: not the one the first stack of this file made.
    expect(etagKey).toMatch(/^\/affix\/local\/etag-key=SecureString:[A-Za-z0-9+/]{43}=$/);
    expect(etagKey).not.toBe(firstEtagKey);
    expect(stack.output()).toContain('external Affix API');
    expect(stack.output()).not.toContain('in-memory sandbox');

    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(stack.output()).not.toContain(secret);
  } finally {
    await external.close();
  }
}, 120_000);

describe('local/start.ts with LAMBDA_CONCURRENCY=2, AFFIX_SANDBOX_LATENCY_MS=150, AFFIX_SANDBOX_RATE_LIMITS=off', {
  timeout: 120_000,
}, () => {
  let stack: Started;
  beforeAll(async () => {
    stack = await startStack({
      LOCAL_HANDLER_MODULE: fakeHandler,
      LAMBDA_CONCURRENCY: '2',
      AFFIX_SANDBOX_LATENCY_MS: '150',
      AFFIX_SANDBOX_RATE_LIMITS: 'off',
    });
  }, 120_000);

  it('runs the handler in LAMBDA_CONCURRENCY isolated environments and says so in the banner', async () => {
    expect(stack.output()).toContain('up to 2 isolated environments (LAMBDA_CONCURRENCY)');
    const call = async (query: string) => {
      const res = await signedFetch(`${stack.apiUrl}/client${query}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { invocations: number };
      return { environment: res.headers.get('x-local-environment-id'), invocations: body.invocations };
    };
    // Two at once, held at the gate: two environments, each with its own module-level counter.
    const held = `?hold=${encodeURIComponent(gate.url('two'))}`;
    const two = Promise.all([call(held), call(held)]);
    await gate.held('two', 2);
    // A third while both are busy: the limit is 2, so Lambda refuses it (API Gateway: integration failure).
    const third = await signedFetch(`${stack.apiUrl}/client`);
    expect(third.status).toBe(504);
    expect(((await third.json()) as { type: string }).type).toMatch(/:integration-failure$/);
    gate.release('two');
    const [a, b] = await two;
    expect(a?.environment).not.toBe(b?.environment);
    expect([a?.invocations, b?.invocations]).toEqual([1, 1]);
    // Free again: the next ones find them warm.
    const more = [await call(''), await call('')];
    expect(more.every((served) => [a?.environment, b?.environment].includes(served.environment))).toBe(true);
  });

  it('delays every sandbox answer by AFFIX_SANDBOX_LATENCY_MS, shown in the banner', async () => {
    expect(stack.output()).toContain('150 ms latency (AFFIX_SANDBOX_LATENCY_MS)');
    // The delay itself is the sandbox's (test/unit/local/affix-sandbox.test.ts, on fake timers).
    const { atLoad } = await callFake(stack.apiUrl);
    const upstream = await fetch(`${atLoad.AFFIX_BASE_URL}${CLIENT_PATH}`, {
      headers: {
        authorization: basicAuthHeader(SANDBOX_DEFAULTS.clientId, SANDBOX_DEFAULTS.clientSecret[0]),
      },
    });
    expect(upstream.status).toBe(200);
  });

  it('AFFIX_SANDBOX_RATE_LIMITS=off lifts the rate limits', async () => {
    await checkSandboxRateLimits(stack, 200);
  });

  it('stops on SIGTERM', async () => {
    await stopsWith(stack, 'SIGTERM');
  });
});

describe('local/start.ts refusing to start', { timeout: 120_000 }, () => {
  it.each([
    ['LAMBDA_CONCURRENCY', '0'],
    ['AFFIX_SANDBOX_LATENCY_MS', 'slow'],
    ['AFFIX_SANDBOX_RATE_LIMITS', 'maybe'],
  ])('exits 1 naming %s when it is %j', async (name, value) => {
    await expect(startStack({ LOCAL_HANDLER_MODULE: fakeHandler, [name]: value })).rejects.toThrow(
      new RegExp(`exited with 1 before ready:[\\s\\S]*${name} must be`),
    );
  });

  it('exits 1 with a message when the handler module cannot be loaded', async () => {
    await expect(startStack({ LOCAL_HANDLER_MODULE: join(dir, 'missing.mjs') })).rejects.toThrow(
      /exited with 1 before ready:[\s\S]*could not load the handler module/,
    );
  });
});
