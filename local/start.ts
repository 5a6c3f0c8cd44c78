/**
 * `npm start`: runs the Lambda handler behind a local API Gateway stand-in, with an in-memory Affix
 * sandbox, a local SSM endpoint holding the Affix credentials and a local DynamoDB engine (dynalite)
 * holding the state table of the write lock. Everything binds 127.0.0.1. The handler runs as Lambda
 * runs it: in a pool of isolated execution environments (`lambda-pool.ts`), one invocation at a time
 * each, so concurrent requests run in separate module instances.
 *
 * Environment:
 * - `PORT` (default 3000; 0 = ephemeral), `AFFIX_SANDBOX_PORT`, `SSM_PORT`, `DYNAMODB_PORT` (default
 *   ephemeral).
 * - `LAMBDA_CONCURRENCY` (default 4, 1-64): most execution environments at once; past it a request is
 *   refused as Lambda throttles (docs/local-concurrency.md). `LAMBDA_TIMEOUT_MS` (default the deployed
 *   15000), `LAMBDA_INIT_TIMEOUT_MS` (10000), `API_INTEGRATION_TIMEOUT_MS` (29000): the limits.
 * - `AFFIX_SANDBOX_LATENCY_MS` (default 0; 50 is a realistic Affix round trip): delay per sandbox answer.
 * - `AFFIX_SANDBOX_RATE_LIMITS` (`on` by default, or `off`): the sandbox enforces Affix's documented
 *   rate limits (40/min per IP, 40/5 min per client_id).
 * - `AFFIX_BASE_URL` + `AFFIX_CLIENT_ID` + `AFFIX_CLIENT_SECRET` (all three): use that Affix API
 *   instead of the sandbox; the credentials go into the local SSM endpoint only and are never printed.
 * - `WEBHOOK_RECEIVER_PORT` (default ephemeral): the built-in webhook receiver (`webhook-receiver.ts`).
 * - `LOCAL_STACKS_DIR` (default `local/.stacks`): where the stack file `<pid>.json` goes.
 * - `LOCAL_HANDLER_MODULE`: load another handler module (path or file URL), e.g. a fake in tests.
 * - `LOCAL_RAW_LOGS=1` (or `--raw-logs`): also print the handler's raw Powertools JSON and EMF lines.
 *
 * Prints one access-log line per request (method, route, status, latency, outcome, caller), and a line
 * containing `ready` (and the API URL) once it listens; SIGINT/SIGTERM close every server and remove
 * the stack file. `--help` prints {@link USAGE} and starts nothing.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { routeKeyOf, routeOf, routesForGroup } from '../functions/contract/routes.ts';
import type { AccessEntry } from './access-log.ts';
import type { SandboxRateLimited } from './affix-sandbox/core.ts';
import {
  type AffixSandbox,
  FAULTS_PATH,
  parseSandboxLatency,
  parseSandboxRateLimits,
  SANDBOX_DEFAULTS,
  STATS_PATH,
  startAffixSandbox,
  WEBHOOK_DELIVERY_PATH,
} from './affix-sandbox.ts';
import {
  API_GATEWAY_INTEGRATION_TIMEOUT_MS,
  type LocalApi,
  type LocalHandler,
  startLocalApi,
} from './api-gateway.ts';
import type { LocalDynamoDb } from './dynamodb.ts';
import { parseIntegerVariable } from './env-integer.ts';
import {
  DEFAULT_CLIENT_ID_PARAMETER,
  DEFAULT_CLIENT_SECRET_PARAMETER,
  DEFAULT_ETAG_KEY_PARAMETER,
  localHandlerEnv,
} from './handler-env.ts';
import {
  LOCAL_ACCOUNT_ID,
  LOCAL_SIGNERS,
  LOCAL_SIGNING_REGION,
  LOCAL_SIGNING_SERVICE,
  type LocalSigner,
} from './identities.ts';
import { createLambdaPool, type LambdaPool, parseConcurrency } from './lambda-pool.ts';
import { DEFAULT_FUNCTION_TIMEOUT_MS, LAMBDA_INIT_TIMEOUT_MS } from './lambda-protocol.ts';
import { stopOnSignal } from './shutdown.ts';
import { type SsmEndpoint, startSsmEndpoint } from './ssm-endpoint.ts';
import {
  removeStackFile,
  removeStaleStackFiles,
  stackFilePath,
  stacksDir,
  writeStackFile,
} from './stack-file.ts';
import {
  formatVerdict,
  startWebhookReceiver,
  type WebhookReceiver,
  type WebhookVerdict,
} from './webhook-receiver.ts';

const DEFAULT_HANDLER_MODULE = new URL('../functions/client-config/handler.ts', import.meta.url).href;

export interface ExternalAffix {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface LocalStackOptions {
  /** Local API port (default 3000; 0 = ephemeral). */
  port?: number;
  sandboxPort?: number;
  ssmPort?: number;
  dynamodbPort?: number;
  /** Use this Affix API instead of starting the sandbox. */
  external?: ExternalAffix;
  /** Module exporting `handler` (path or URL). Default: functions/client-config/handler.ts. */
  handlerModule?: string;
  /** Function timeout (default: the deployed one, see `lambda-protocol.ts`). */
  timeoutMs?: number;
  /** The pool's init limit (default Lambda's 10 s). */
  initTimeoutMs?: number;
  /** The local API's integration timeout (default API Gateway's 29 s). */
  integrationTimeoutMs?: number;
  /**
   * Run the handler in a pool of up to this many isolated execution environments (worker threads),
   * as Lambda does. Undefined: import it into this process (one shared module instance, the
   * behaviour suites that inspect the handler in-process rely on). `npm start` always uses the pool.
   */
  concurrency?: number;
  /** Environments started (and checked) before the stack reports ready (pool only; default 1). */
  warmEnvironments?: number;
  /** Sandbox answer delay (default 0). */
  sandboxLatencyMs?: number;
  /** Whether the sandbox enforces Affix's rate limits (default false; `npm start` turns them on). */
  sandboxRateLimits?: boolean;
  /** Each request the sandbox's rate limiter refuses. */
  onSandboxRateLimited?: (refusal: SandboxRateLimited) => void;
  /** Host the webhook receiver on this port (0: any free port); undefined: no receiver. */
  webhookReceiverPort?: number;
  /** Each delivery the receiver verified. */
  onWebhookVerdict?: (verdict: WebhookVerdict) => void;
  /** Extra variables for the handler, over the local defaults (e.g. a test's short timeouts). */
  handlerEnv?: Record<string, string>;
  /** Each answered request (see `startLocalApi`). */
  onAccess?: (entry: AccessEntry) => void;
  /** Each line the pool's environments write (pool only). Default: straight to this stdout/stderr. */
  onOutput?: (line: string, environmentId: string) => void;
}

export interface LocalStack {
  apiUrl: string;
  /** Undefined when an external Affix API is used. */
  sandbox: AffixSandbox | undefined;
  ssm: SsmEndpoint;
  dynamodb: LocalDynamoDb;
  affixBaseUrl: string;
  clientId: string;
  /** The execution environments, when the handler runs in a pool. */
  pool: LambdaPool | undefined;
  /** What the API invokes: the handler's own module instance in-process, or the pool. */
  handler: LocalHandler;
  sandboxLatencyMs: number;
  /** Whether the sandbox enforces Affix's rate limits (false with an external Affix). */
  sandboxRateLimits: boolean;
  /** The built-in webhook receiver, when asked for. */
  webhookReceiver: WebhookReceiver | undefined;
  close(): Promise<void>;
}

/** Variables of this process a handler must never inherit (real credentials of the developer's shell). */
const NOT_INHERITED = ['AFFIX_CLIENT_ID', 'AFFIX_CLIENT_SECRET', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];

function parsePort(name: string, raw: string | undefined, fallback: number): number {
  return parseIntegerVariable(name, raw, fallback, 0, 65_535);
}

/** The variables `npm start` reads, with their defaults: `--help` prints them, a test checks the list. */
export const START_VARIABLES: readonly (readonly [name: string, meaning: string])[] = [
  ['PORT', 'local API port (default 3000; 0 = any free port)'],
  ['AFFIX_SANDBOX_PORT', 'Affix sandbox port (default 0 = any free port)'],
  ['SSM_PORT', 'local SSM endpoint port (default 0 = any free port)'],
  ['DYNAMODB_PORT', 'local DynamoDB (dynalite) port (default 0 = any free port)'],
  ['LAMBDA_CONCURRENCY', 'most isolated execution environments at once (default 4, 1-64); past it: refused'],
  ['LAMBDA_TIMEOUT_MS', 'function timeout in ms, from dispatch (default 15000, as deployed)'],
  ['LAMBDA_INIT_TIMEOUT_MS', "an environment's init limit in ms (default 10000, as Lambda)"],
  ['API_INTEGRATION_TIMEOUT_MS', "the local API's integration timeout in ms (default 29000, as deployed)"],
  ['AFFIX_SANDBOX_LATENCY_MS', 'delay per sandbox answer in ms (default 0; 50 is realistic)'],
  ['AFFIX_SANDBOX_RATE_LIMITS', "on (default): the sandbox enforces Affix's rate limits; off: it does not"],
  ['AFFIX_BASE_URL', 'use this Affix API instead of the sandbox (with the next two; default unset)'],
  ['AFFIX_CLIENT_ID', 'its client id (only with AFFIX_BASE_URL and AFFIX_CLIENT_SECRET)'],
  ['AFFIX_CLIENT_SECRET', 'its client secret: into local SSM only, never printed'],
  ['WEBHOOK_RECEIVER_PORT', 'built-in webhook receiver port (default 0 = any free port)'],
  ['LOCAL_STACKS_DIR', 'folder of the stack files npm run rotate reads (default local/.stacks)'],
  ['LOCAL_HANDLER_MODULE', 'handler module to run (default functions/client-config/handler.ts)'],
  ['LOCAL_RAW_LOGS', '1: also print the raw Powertools JSON and EMF lines (default unset)'],
];

/** The column the variables' meanings start at: past the longest name, so none runs into its meaning. */
const VARIABLE_COLUMN = Math.max(...START_VARIABLES.map(([name]) => name.length)) + 2;

export const USAGE = [
  'Usage: npm start [-- --raw-logs] [-- --help]',
  '',
  'Runs the proxy locally: an in-memory Affix sandbox, local SSM and DynamoDB, the handler in a pool of',
  'isolated Lambda environments, behind a local API Gateway (SigV4) on 127.0.0.1. Prints one access-log',
  'line per request: method, route, status, latency, outcome, caller, environment, request id.',
  '',
  'Options:',
  "  --raw-logs   also print the handler's raw Powertools JSON and EMF lines (same as LOCAL_RAW_LOGS=1)",
  '  --help, -h   print this and exit',
  '',
  'Environment:',
  ...START_VARIABLES.map(([name, meaning]) => `  ${name.padEnd(VARIABLE_COLUMN)}${meaning}`),
  '',
].join('\n');

export interface StartArguments {
  help: boolean;
  rawLogs: boolean;
}

/** `npm start -- ...` arguments; an unknown one is an error (a typo must not start the stack). */
export function parseStartArguments(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): StartArguments {
  const parsed: StartArguments = { help: false, rawLogs: env.LOCAL_RAW_LOGS === '1' };
  for (const argument of argv) {
    if (argument === '--help' || argument === '-h') parsed.help = true;
    else if (argument === '--raw-logs') parsed.rawLogs = true;
    else
      throw new Error(`unknown argument ${JSON.stringify(argument)} (npm start -- --help lists the options)`);
  }
  return parsed;
}

const EXTERNAL_AFFIX_VARIABLES = ['AFFIX_BASE_URL', 'AFFIX_CLIENT_ID', 'AFFIX_CLIENT_SECRET'] as const;

/**
 * The external Affix API, when all three variables are set; none set means the sandbox. Some but not
 * all is an error naming the variables (never their values: one is a secret).
 */
export function externalAffixFromEnv(env: Record<string, string | undefined>): ExternalAffix | undefined {
  const isSet = (name: string) => (env[name] ?? '') !== '';
  const set = EXTERNAL_AFFIX_VARIABLES.filter(isSet);
  if (set.length === 0) return undefined;
  if (set.length < EXTERNAL_AFFIX_VARIABLES.length) {
    const missing = EXTERNAL_AFFIX_VARIABLES.filter((name) => !isSet(name));
    throw new Error(
      `AFFIX_BASE_URL, AFFIX_CLIENT_ID and AFFIX_CLIENT_SECRET go together: set all three to use that Affix API, ` +
        `or none for the sandbox (set: ${set.join(', ')}; missing: ${missing.join(', ')})`,
    );
  }
  return {
    baseUrl: env.AFFIX_BASE_URL as string,
    clientId: env.AFFIX_CLIENT_ID as string,
    clientSecret: env.AFFIX_CLIENT_SECRET as string,
  };
}

/** Starts a stand-in on its port; a taken port names the variable that chose it (Node says only the address). */
async function onPort<T>(variable: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE') {
      throw new Error(
        `${variable}: port ${port} on 127.0.0.1 is already in use; set ${variable} to a free port (0 picks one)`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** How to lift the sandbox's limits: what a 429 line names, since a newcomer's 429 is usually theirs. */
export const LIFT_RATE_LIMITS =
  "AFFIX_SANDBOX_RATE_LIMITS=off npm start lifts the sandbox's Affix rate limits";

/**
 * One access-log line: names, numbers and ids only (never a body, a header value or a secret). An
 * `upstream-rate-limited` answer while the sandbox enforces Affix's limits says how to lift them.
 */
export function formatAccessLine(entry: AccessEntry, options: { sandboxRateLimits?: boolean } = {}): string {
  const target = entry.route ?? `${entry.method} ${entry.path.slice(0, 100)}`;
  const where = entry.environmentId ? ` ${entry.environmentId}` : '';
  const hint =
    options.sandboxRateLimits === true && entry.outcome === 'upstream-rate-limited'
      ? ` (${LIFT_RATE_LIMITS})`
      : '';
  return `${target} ${entry.status} ${Math.round(entry.latencyMs)}ms ${entry.outcome} ${entry.caller ?? '-'}${where} ${entry.requestId}${hint}`;
}

/** The line for a request the sandbox's rate limiter refused. */
export function formatSandboxRateLimited(refusal: SandboxRateLimited): string {
  const limit = refusal.limit === 'ip' ? '40 a minute per IP' : '40 every 5 minutes per client_id';
  return `[affix-sandbox] ${refusal.method} ${refusal.path} 429 Retry-After ${refusal.retryAfterSeconds}s: over Affix's limit of ${limit}; ${LIFT_RATE_LIMITS}`;
}

/**
 * Without --raw-logs: an environment's Powertools INFO/DEBUG lines and EMF blobs are left out (the
 * access line says what happened); warnings, errors and non-JSON lines stay, shortened to their message.
 */
export function summarizeOutput(line: string, environmentId: string): string | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return `[${environmentId}] ${line}`;
  }
  if (entry === null || typeof entry !== 'object') return `[${environmentId}] ${line}`;
  const { level, message, _aws, outsideChange } = entry as {
    level?: unknown;
    message?: unknown;
    _aws?: unknown;
    outsideChange?: { fields?: unknown };
  };
  if (_aws !== undefined) return undefined;
  if (typeof level === 'string' && ['WARN', 'ERROR', 'CRITICAL'].includes(level.toUpperCase())) {
    // An outside change names its fields (names only, never values): the one thing to act on.
    const fields = Array.isArray(outsideChange?.fields)
      ? ` (${outsideChange.fields.filter((field) => typeof field === 'string').join(', ')})`
      : '';
    return `[${environmentId}] ${level.toUpperCase()} ${typeof message === 'string' ? message : ''}${fields}`;
  }
  return undefined;
}

function toModuleUrl(specifier: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(specifier) ? specifier : pathToFileURL(resolve(specifier)).href;
}

/** In-process stacks started by this process: each imports its own instance of the handler module. */
let inProcessStacks = 0;

async function loadHandler(moduleUrl: string): Promise<LocalHandler> {
  let mod: unknown;
  try {
    // The handler reads its configuration and builds its ports when its module is evaluated (as at a
    // cold start): a second stack in this process gets a fresh instance (its own URL), not the first's.
    inProcessStacks += 1;
    const url =
      inProcessStacks === 1
        ? moduleUrl
        : `${moduleUrl}${moduleUrl.includes('?') ? '&' : '?'}stack=${inProcessStacks}`;
    // A non-literal specifier keeps this file type-correct while the handler does not exist yet.
    mod = await import(url);
  } catch (error) {
    throw new Error(`could not load the handler module ${moduleUrl}`, { cause: error });
  }
  const handler = (mod as { handler?: unknown }).handler;
  if (typeof handler !== 'function') throw new Error(`${moduleUrl} does not export a function named handler`);
  return handler as LocalHandler;
}

/**
 * Starts sandbox (unless external), SSM endpoint, DynamoDB engine and local API, setting `process.env`
 * for the handler before its module is imported (it parses its configuration at load time). Each
 * stand-in is one `started` entry, closed in reverse order.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const started: { close(): Promise<void> }[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.allSettled(started.reverse().map((service) => service.close()));
  };
  try {
    let sandbox: AffixSandbox | undefined;
    let affixBaseUrl: string;
    let clientId: string;
    let clientSecret: string;
    if (options.external) {
      ({ baseUrl: affixBaseUrl, clientId, clientSecret } = options.external);
    } else {
      const sandboxPort = options.sandboxPort ?? 0;
      sandbox = await onPort('AFFIX_SANDBOX_PORT', sandboxPort, () =>
        startAffixSandbox({
          port: sandboxPort,
          latencyMs: options.sandboxLatencyMs,
          rateLimits: options.sandboxRateLimits === true ? {} : false,
          onRateLimited: options.onSandboxRateLimited,
        }),
      );
      started.push(sandbox);
      affixBaseUrl = sandbox.url;
      clientId = SANDBOX_DEFAULTS.clientId;
      clientSecret = SANDBOX_DEFAULTS.clientSecret[0];
    }

    const ssmPort = options.ssmPort ?? 0;
    const ssm = await onPort('SSM_PORT', ssmPort, () =>
      startSsmEndpoint({
        port: ssmPort,
        parameters: {
          [DEFAULT_CLIENT_ID_PARAMETER]: { value: clientId, type: 'String' },
          [DEFAULT_CLIENT_SECRET_PARAMETER]: { value: clientSecret, type: 'SecureString' },
          // Fresh per start, as a deployment's own key: ETags of an earlier run no longer match.
          [DEFAULT_ETAG_KEY_PARAMETER]: { value: randomBytes(32).toString('base64'), type: 'SecureString' },
        },
      }),
    );
    started.push(ssm);

    const dynamodbPort = options.dynamodbPort ?? 0;
    // Loaded here, not with this module: dynalite and the DynamoDB client are most of its import CPU,
    // which `--help` and a refused variable (checked before this runs) then never pay.
    const { startLocalDynamoDb } = await import('./dynamodb.ts');
    const dynamodb = await onPort('DYNAMODB_PORT', dynamodbPort, () =>
      startLocalDynamoDb({ port: dynamodbPort }),
    );
    started.push(dynamodb);

    const handlerEnv = {
      ...localHandlerEnv({
        affixBaseUrl,
        ssmUrl: ssm.url,
        dynamodbUrl: dynamodb.url,
        stateTableName: dynamodb.tableName,
        clientIdParameter: DEFAULT_CLIENT_ID_PARAMETER,
        clientSecretParameter: DEFAULT_CLIENT_SECRET_PARAMETER,
        etagKeyParameter: DEFAULT_ETAG_KEY_PARAMETER,
      }),
      // The proxy's shared Affix budget mirrors the sandbox: with its limits off, so is the budget.
      ...(sandbox !== undefined && options.sandboxRateLimits !== true
        ? { AFFIX_REQUESTS_PER_5_MINUTES: '1000000' }
        : {}),
      ...options.handlerEnv,
    };
    const handlerModule = toModuleUrl(options.handlerModule ?? DEFAULT_HANDLER_MODULE);

    let handler: LocalHandler;
    let pool: LambdaPool | undefined;
    if (options.concurrency === undefined) {
      // Real credentials from the developer's shell must not leak into the handler or the SDK.
      for (const name of NOT_INHERITED) delete process.env[name];
      Object.assign(process.env, handlerEnv);
      handler = await loadHandler(handlerModule);
    } else {
      // Each environment gets its own copy of this environment; this process's env is left alone.
      const inherited: Record<string, string> = {};
      for (const [name, value] of Object.entries(process.env)) {
        if (value !== undefined && !NOT_INHERITED.includes(name)) inherited[name] = value;
      }
      pool = createLambdaPool({
        handlerModule,
        env: { ...inherited, ...handlerEnv },
        concurrency: options.concurrency,
        timeoutMs: options.timeoutMs,
        initTimeoutMs: options.initTimeoutMs,
        onOutput: options.onOutput,
      });
      started.push(pool);
      try {
        await pool.warm(options.warmEnvironments ?? 1);
      } catch (error) {
        throw new Error(`could not load the handler module ${handlerModule}`, { cause: error });
      }
      handler = pool;
    }
    const apiPort = options.port ?? 3000;
    const api: LocalApi = await onPort('PORT', apiPort, () =>
      startLocalApi({
        handler,
        port: apiPort,
        timeoutMs: options.timeoutMs,
        integrationTimeoutMs: options.integrationTimeoutMs,
        onAccess: options.onAccess,
      }),
    );
    started.push(api);

    let webhookReceiver: WebhookReceiver | undefined;
    if (options.webhookReceiverPort !== undefined) {
      const receiverPort = options.webhookReceiverPort;
      webhookReceiver = await onPort('WEBHOOK_RECEIVER_PORT', receiverPort, () =>
        startWebhookReceiver({ apiUrl: api.url, port: receiverPort, onVerdict: options.onWebhookVerdict }),
      );
      started.push(webhookReceiver);
    }

    const sandboxLatencyMs = sandbox ? (options.sandboxLatencyMs ?? 0) : 0;
    const sandboxRateLimits = sandbox !== undefined && options.sandboxRateLimits === true;
    return {
      apiUrl: api.url,
      sandbox,
      ssm,
      dynamodb,
      affixBaseUrl,
      clientId,
      pool,
      handler,
      sandboxLatencyMs,
      sandboxRateLimits,
      webhookReceiver,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** `curl` signing as `signer`, the way the deployed API wants it (SigV4, execute-api, us-east-1). */
export function curlAs(signer: LocalSigner): string {
  return `curl --aws-sigv4 "aws:amz:${LOCAL_SIGNING_REGION}:${LOCAL_SIGNING_SERVICE}" --user ${signer.accessKeyId}:${signer.secretAccessKey}`;
}

/**
 * What to print for humans: where things run, the local identities and ready-to-paste curl examples.
 * Never includes a real secret (the local signing keys open only this local API).
 */
export function describeLocalStack(stack: LocalStack): string {
  const api = stack.apiUrl;
  const affix = stack.sandbox
    ? `${stack.affixBaseUrl}  (in-memory sandbox, client_id ${stack.clientId})`
    : `${stack.affixBaseUrl}  (external Affix API, client_id ${stack.clientId}; secret only in local SSM)`;
  const latency = stack.sandbox ? `, ${stack.sandboxLatencyMs} ms latency (AFFIX_SANDBOX_LATENCY_MS)` : '';
  const limits = stack.sandbox
    ? stack.sandboxRateLimits
      ? [
          "Affix's rate limits on: 40/min per IP, 40/5 min per client_id, as Affix enforces them (a PATCH spends 2).",
          'Over them the sandbox answers 429 and the proxy backs off. AFFIX_SANDBOX_RATE_LIMITS=off npm start lifts them.',
        ]
      : ["Affix's rate limits off (AFFIX_SANDBOX_RATE_LIMITS=off)"]
    : [];
  const sandboxLines = stack.sandbox
    ? [
        '',
        'The sandbox: requests that reached Affix (and how many the rate limiter refused), and a fault for',
        'the next requests (status, Retry-After in seconds, how many):',
        `  curl -s ${stack.affixBaseUrl}${STATS_PATH}`,
        `  curl -s ${stack.affixBaseUrl}${FAULTS_PATH} -d '{"status":429,"retryAfter":60,"count":1}'`,
      ]
    : [];
  const lambda = stack.pool
    ? `up to ${stack.pool.concurrency} isolated environments (LAMBDA_CONCURRENCY), one invocation each`
    : 'in this process (one module instance)';
  const current = stack.sandbox ? SANDBOX_DEFAULTS.clientSecret[0] : '<current-secret>';
  const signer = (group: LocalSigner['group']): LocalSigner => {
    const found = LOCAL_SIGNERS.find((candidate) => candidate.group === group);
    if (found === undefined) throw new Error(`no local identity for ${group}`);
    return found;
  };
  const reader = curlAs(signer('readers'));
  const etag = `ETAG=$(${reader} -s -o /dev/null -D - ${api}${routeOf('getClient').path} | tr -d '\\r' | awk 'tolower($1)=="etag:" {print $2}')`;
  const webhookLines =
    stack.sandbox && stack.webhookReceiver
      ? [
          '',
          'A signed webhook, end to end: point webhook_uri at the receiver (the sandbox delivers https:// loopback',
          'URLs over plain HTTP), then let the sandbox send a delivery; the receiver prints the verdict:',
          `  ${etag}`,
          `  ${curlAs(signer('writers'))} -si -X ${routeOf('updateClient').method} ${api}${routeOf('updateClient').path} \\`,
          `    -H 'content-type: application/json' -H "if-match: $ETAG" -d '{"webhook_uri":"${receiverWebhookUri(stack.webhookReceiver)}"}'`,
          `  curl -s -X POST ${stack.affixBaseUrl}${WEBHOOK_DELIVERY_PATH} -d '{"added":[{"id":"e-1"}],"removed":[],"updated":[]}'`,
        ]
      : [];
  const width = Math.max(...LOCAL_SIGNERS.map((s) => s.accessKeyId.length + s.secretAccessKey.length + 1));
  const identities = LOCAL_SIGNERS.map((s) => {
    const routes = routesForGroup(s.group);
    return `    ${`${s.accessKeyId}:${s.secretAccessKey}`.padEnd(width)}  ${s.group.padEnd(9)}  ${routes.length > 0 ? routes.join(', ') : '(no route yet)'}`;
  });
  return [
    'affix-webhook-config: local stack',
    `  Affix API      ${affix}${latency}`,
    ...limits.map((line) => `                 ${line}`),
    `  SSM endpoint   ${stack.ssm.url}  (${DEFAULT_CLIENT_ID_PARAMETER} String, ${DEFAULT_CLIENT_SECRET_PARAMETER} and ${DEFAULT_ETAG_KEY_PARAMETER} SecureString)`,
    `  DynamoDB       ${stack.dynamodb.url}  (dynalite, table ${stack.dynamodb.tableName}: the write lease, the shared read cache, the back-off, the last-seen state)`,
    `  Lambda         ${lambda}`,
    `  local API      ${api}  (API Gateway REST v1 proxy events, stage "local")`,
    ...(stack.webhookReceiver
      ? [
          `  webhooks       ${stack.webhookReceiver.url}  (receiver: verifies each delivery with ${routeKeyOf(routeOf('verifyWebhook'))} as local-verifier)`,
        ]
      : []),
    '',
    `Every request must be signed with SigV4 (service ${LOCAL_SIGNING_SERVICE}, region ${LOCAL_SIGNING_REGION}), as the`,
    'deployed API wants. Unsigned, badly signed, expired or not-allowed requests get a 403 problem whose',
    'slug says which: missing-signature, invalid-signature, expired-credentials or access-denied. The local',
    'identities (access key id:secret, group, routes it may call; the caller ARN is',
    `arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/<access key id>/local):`,
    ...identities,
    '',
    'Read the client as the reader (the answer carries an ETag):',
    `  ${reader} -si ${api}${routeOf('getClient').path}`,
    '',
    'Change the webhook URI as the writer. Send the ETag of your last GET back as If-Match: if the client',
    'changed in between, the proxy refuses (412) instead of overwriting the other change.',
    `  ${etag}`,
    `  ${curlAs(signer('writers'))} -si -X ${routeOf('updateClient').method} ${api}${routeOf('updateClient').path} \\`,
    `    -H 'content-type: application/json' -H "if-match: $ETAG" -d '{"webhook_uri":"https://hooks.example.com/affix-v2"}'`,
    '',
    'Rotate the secret as the rotator: add a new one while keeping the current one first, so callers that',
    'still use the current secret keep working; remove it with a second PUT once nothing uses it.',
    `  ${etag}`,
    `  ${curlAs(signer('rotators'))} -si -X ${routeOf('replaceSecrets').method} ${api}${routeOf('replaceSecrets').path} \\`,
    `    -H 'content-type: application/json' -H "if-match: $ETAG" -d '{"client_secret":["${current}","sandbox-secret-bbbbbbbbbbbbbbbb"]}'`,
    ...sandboxLines,
    ...webhookLines,
    '',
    'The examples in README.md and docs/local.md use these variables:',
    `  ${exportLine(stack)}`,
    '',
  ].join('\n');
}

/**
 * The receiver as a `webhook_uri` the proxy accepts: https:// (its only scheme); the sandbox delivers
 * to a loopback https:// URL over plain HTTP, where the receiver listens.
 */
export function receiverWebhookUri(receiver: WebhookReceiver): string {
  return receiver.url.replace(/^http:/, 'https:');
}

/** `export API=... SANDBOX=... WEBHOOK_URI=...`: what the documented examples expect in the shell. */
export function exportLine(stack: LocalStack): string {
  const variables = [
    `API=${stack.apiUrl}`,
    ...(stack.sandbox ? [`SANDBOX=${stack.affixBaseUrl}`] : []),
    ...(stack.webhookReceiver ? [`WEBHOOK_URI=${receiverWebhookUri(stack.webhookReceiver)}`] : []),
  ];
  return `export ${variables.join(' ')}`;
}

async function main(argv: readonly string[]): Promise<void> {
  const env = process.env;
  const args = parseStartArguments(argv, env);
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  const external = externalAffixFromEnv(env);
  const sandboxRateLimits = external === undefined && parseSandboxRateLimits(env.AFFIX_SANDBOX_RATE_LIMITS);
  const dir = stacksDir(env);
  const stackFile = stackFilePath(dir);
  const stack = await startLocalStack({
    port: parsePort('PORT', env.PORT, 3000),
    sandboxPort: parsePort('AFFIX_SANDBOX_PORT', env.AFFIX_SANDBOX_PORT, 0),
    ssmPort: parsePort('SSM_PORT', env.SSM_PORT, 0),
    dynamodbPort: parsePort('DYNAMODB_PORT', env.DYNAMODB_PORT, 0),
    external,
    handlerModule: env.LOCAL_HANDLER_MODULE || undefined,
    concurrency: parseConcurrency(env.LAMBDA_CONCURRENCY),
    timeoutMs: parseIntegerVariable(
      'LAMBDA_TIMEOUT_MS',
      env.LAMBDA_TIMEOUT_MS,
      DEFAULT_FUNCTION_TIMEOUT_MS,
      1,
      900_000,
    ),
    initTimeoutMs: parseIntegerVariable(
      'LAMBDA_INIT_TIMEOUT_MS',
      env.LAMBDA_INIT_TIMEOUT_MS,
      LAMBDA_INIT_TIMEOUT_MS,
      1,
      600_000,
    ),
    integrationTimeoutMs: parseIntegerVariable(
      'API_INTEGRATION_TIMEOUT_MS',
      env.API_INTEGRATION_TIMEOUT_MS,
      API_GATEWAY_INTEGRATION_TIMEOUT_MS,
      50,
      300_000,
    ),
    sandboxLatencyMs: parseSandboxLatency(env.AFFIX_SANDBOX_LATENCY_MS),
    sandboxRateLimits,
    webhookReceiverPort: parsePort('WEBHOOK_RECEIVER_PORT', env.WEBHOOK_RECEIVER_PORT, 0),
    onAccess: (entry) => process.stdout.write(`${formatAccessLine(entry, { sandboxRateLimits })}\n`),
    onSandboxRateLimited: (refusal) => process.stdout.write(`${formatSandboxRateLimited(refusal)}\n`),
    onWebhookVerdict: (verdict) => process.stdout.write(`${formatVerdict(verdict)}\n`),
    onOutput: args.rawLogs
      ? (line) => process.stdout.write(`${line}\n`)
      : (line, environmentId) => {
          const summary = summarizeOutput(line, environmentId);
          if (summary !== undefined) process.stdout.write(`${summary}\n`);
        },
  });

  const stop = stopOnSignal({
    close: () => {
      removeStackFile(stackFile);
      return stack.close();
    },
    closeNow: () => removeStackFile(stackFile),
    exit: (code) => process.exit(code),
    write: (text) => process.stdout.write(text),
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  // For `npm run rotate` and other tools: where this stack runs (no secret in it), one file per stack.
  await removeStaleStackFiles(dir);
  await writeStackFile(stack, stackFile);
  // Whatever ends this process (a second signal, the forced exit, a crash) takes its stack file along.
  process.on('exit', () => removeStackFile(stackFile));
  process.stdout.write(describeLocalStack(stack));
  process.stdout.write(`\nlocal API ready on ${stack.apiUrl} (Ctrl-C to stop)\n`);
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    process.stderr.write(
      `local stack failed to start: ${error instanceof Error ? error.message : String(error)}${cause}\n`,
    );
    process.exit(1);
  });
}
