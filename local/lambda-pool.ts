/**
 * Lambda's concurrency model, locally: a pool of isolated execution environments (worker threads),
 * each importing the handler module itself (own configuration, own SSM/DynamoDB/Affix clients, own
 * caches), each running one invocation at a time and reused warm. An invocation that finds no idle
 * environment cold-starts a new one and runs in it, up to `concurrency`; past it the invocation is
 * refused at once with {@link TooManyRequestsException}, as Lambda refuses a synchronous invoke at its
 * concurrency limit: nothing is queued, so nothing runs after its caller has been answered.
 *
 * Limits, as in Lambda: init (loading the handler module) has its own limit, `initTimeoutMs`; the
 * function timeout is measured from dispatch, when the environment starts running the invocation, not
 * from the request's arrival. An invocation past the function timeout, or one its caller gave up on
 * (the `signal` passed to the pool), kills its environment, so its writes stop with it; a crashed
 * environment is replaced on demand. See docs/local-concurrency.md.
 *
 * The pool is a {@link LocalHandler}, so it plugs into `startLocalApi({ handler: pool })`. Each answer
 * carries `x-local-environment-id` (which environment served it), so tests can tell containers apart.
 *
 * @example
 * ```ts
 * const pool = createLambdaPool({ handlerModule, env: localHandlerEnv(...), concurrency: 4 });
 * const api = await startLocalApi({ handler: pool, port: 0 });
 * // ... pool.environments(), await pool.kill(id) ...
 * await api.close();
 * await pool.close();
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { buildSync } from 'esbuild';
import { BUNDLE_FILE_NAME, esbuildOptionsFor } from '../infra/esbuild-options.ts';
import type { LocalHandler } from './api-gateway.ts';
import { parseIntegerVariable } from './env-integer.ts';
import {
  DEFAULT_FUNCTION_TIMEOUT_MS,
  type EnvironmentMessage,
  type InvokeMessage,
  LAMBDA_INIT_TIMEOUT_MS,
  realSchedule,
  type Schedule,
  TooManyRequestsException,
} from './lambda-protocol.ts';

/** The local default limit of environments alive at once (`LAMBDA_CONCURRENCY`). */
export const DEFAULT_LAMBDA_CONCURRENCY = 4;
export const MAX_LAMBDA_CONCURRENCY = 64;
/** The response header naming the environment that served an invocation. */
export const ENVIRONMENT_ID_HEADER = 'x-local-environment-id';

const ENTRY_URL = new URL('./lambda-environment.mjs', import.meta.url);
/** What an environment builds each invocation's `Context` with; handed to it as JavaScript (see {@link SharedFolder}). */
const CONTEXT_MODULE_URL = new URL('./lambda-context.ts', import.meta.url).href;

export interface LambdaPoolOptions {
  /**
   * Module exporting `handler` (path or URL). A TypeScript module is bundled first, as it is deployed
   * (see {@link deployedModule}), unless `bundle` is false.
   */
  handlerModule: string;
  /**
   * Default true: environments load a TypeScript handler as the deployed bundle, without a
   * TypeScript loader of their own. False: each environment registers tsx and loads the sources.
   */
  bundle?: boolean;
  /**
   * The handler's whole environment (`process.env` inside each environment). Copied into each worker,
   * never shared with this process or between environments.
   */
  env: Record<string, string>;
  /** Most environments alive at once (default {@link DEFAULT_LAMBDA_CONCURRENCY}); past it invokes are refused. */
  concurrency?: number;
  /**
   * Function timeout, from dispatch: an invocation running longer kills its environment (default
   * {@link DEFAULT_FUNCTION_TIMEOUT_MS}, the deployed value).
   */
  timeoutMs?: number;
  /**
   * Init limit (default {@link LAMBDA_INIT_TIMEOUT_MS}, Lambda's). As in Lambda, an init that outlasts
   * it is not the end: it carries on as part of the invocation waiting for it, under that
   * invocation's function timeout (Lambda retries the init then, "with the configured function
   * timeout"). An environment nobody waits for gets 130 s or the function timeout, the larger.
   */
  initTimeoutMs?: number;
  functionName?: string;
  memoryLimitInMB?: number;
  /** Sets the init and function timeouts (default the real clock; tests fire them at will). */
  schedule?: Schedule;
  /** The clock a function timeout that started during init is measured on (default `Date.now`). */
  now?: () => number;
  /**
   * Each line an environment writes to stdout or stderr (the handler's logs, EMF metrics), with the
   * environment's id. Default: the lines go straight to this process's stdout/stderr.
   */
  onOutput?: (line: string, environmentId: string) => void;
}

export type EnvironmentState = 'starting' | 'idle' | 'busy';

export interface EnvironmentInfo {
  /** `env-1`, `env-2`, ...: never reused within one pool. */
  id: string;
  state: EnvironmentState;
  /** Invocations this environment has completed or started. */
  invocations: number;
}

export interface LambdaPool extends LocalHandler {
  readonly concurrency: number;
  readonly isolated: true;
  /** The live environments, oldest first. */
  environments(): EnvironmentInfo[];
  /**
   * Starts environments until `count` are alive and waits until they are ready (Lambda's provisioned
   * concurrency, in effect). Rejects when one fails its init, e.g. the handler module cannot load.
   */
  warm(count?: number): Promise<void>;
  /** Terminates one environment as a crash would: its in-flight invocation fails. */
  kill(id: string): Promise<void>;
  /** Terminates every environment; in-flight invocations fail. */
  close(): Promise<void>;
}

/** The invocation failed the way Lambda reports it to API Gateway (which answers 502). */
export class LambdaInvocationError extends Error {
  constructor(
    message: string,
    readonly kind:
      | 'timeout'
      | 'init-timeout'
      | 'environment-exited'
      | 'init-failed'
      | 'handler-error'
      | 'aborted'
      | 'pool-closed',
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'LambdaInvocationError';
  }
}

interface Invocation {
  event: APIGatewayProxyEvent;
  context: Context;
  resolve(result: APIGatewayProxyResult): void;
  reject(error: Error): void;
}

interface Environment {
  id: string;
  worker: Worker;
  state: EnvironmentState;
  invocations: number;
  current: { invocation: Invocation; cancelTimeout: () => void } | undefined;
  exited: Promise<void>;
  /** Settles when the handler module has loaded, or failed to. */
  ready: Promise<void>;
  /** The invocation whose arrival cold-started this environment (or found it starting): it runs here once init is done. */
  reserved: Invocation | undefined;
  /** Cancels the limit running while the environment starts (see `start`). */
  cancelStartLimit: () => void;
  /** The init outlasted its limit and carries on under the reserved invocation's function timeout. */
  initOverdue: boolean;
  /** When the reserved invocation's function timeout started, if it started before dispatch. */
  chargedSince: number | undefined;
}

/** The init limit of an environment nobody waits for (Lambda's, for provisioned concurrency): 130 s or the function timeout. */
const UNCLAIMED_INIT_LIMIT_MS = 130_000;

export function parseConcurrency(raw: string | undefined, name = 'LAMBDA_CONCURRENCY'): number {
  return parseIntegerVariable(name, raw, DEFAULT_LAMBDA_CONCURRENCY, 1, MAX_LAMBDA_CONCURRENCY);
}

function toModuleUrl(specifier: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(specifier) ? specifier : pathToFileURL(resolve(specifier)).href;
}

const bundles = new Map<string, string>();

/**
 * A TypeScript handler module as Lambda gets it: bundled with the deployment's own esbuild options
 * (`infra/esbuild-options.ts`), once per module and process, into a folder removed at exit. Each
 * environment then loads one file instead of registering tsx and compiling the module graph itself,
 * which was most of a cold start's CPU: twenty of those at once outlasted Lambda's 10 s init limit
 * on two cores. Anything else (a `.mjs`, a bundle already) is returned as is.
 */
export function deployedModule(moduleUrl: string): string {
  if (!moduleUrl.startsWith('file:') || !/\.[cm]?tsx?$/.test(new URL(moduleUrl).pathname)) return moduleUrl;
  const known = bundles.get(moduleUrl);
  if (known !== undefined) return known;
  const dir = mkdtempSync(join(tmpdir(), 'lambda-pool-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, BUNDLE_FILE_NAME);
  // Synchronous: a pool is created synchronously; this runs once per module and process.
  const result = buildSync({ ...esbuildOptionsFor(fileURLToPath(moduleUrl), outfile), logLevel: 'silent' });
  if (result.errors.length > 0) throw new Error(`bundling ${moduleUrl} failed: ${result.errors[0]?.text}`);
  const bundled = pathToFileURL(outfile).href;
  bundles.set(moduleUrl, bundled);
  return bundled;
}

/**
 * What the environments of this process share while a pool is open, in one temporary folder removed
 * when the last open pool closes (vitest ends its workers with SIGTERM, so an `exit` hook alone would
 * leave it behind): a JavaScript build of the environments' own TypeScript (`lambda-context.ts`;
 * imported as TypeScript, it starts Node's type stripper, a WebAssembly compiler, in every environment:
 * a third of a bundled environment's start-up CPU), and V8's code cache of what they import
 * (`module.enableCompileCache`), so an environment compiles the handler bundle from the cache an
 * earlier one wrote. Code only, never state: each environment still loads its own module instances.
 */
interface SharedFolder {
  dir: string;
  contextModule: string;
  compileCacheDir: string;
  openPools: number;
}

let shared: SharedFolder | undefined;
let removeAtExit = false;

function openSharedFolder(): SharedFolder {
  if (shared === undefined) {
    if (!removeAtExit) {
      // One hook for every folder this process makes: a pool left open at exit leaves nothing either.
      process.once('exit', () => {
        if (shared !== undefined) rmSync(shared.dir, { recursive: true, force: true });
      });
      removeAtExit = true;
    }
    const dir = mkdtempSync(join(tmpdir(), 'lambda-pool-shared-'));
    const outfile = join(dir, 'context', BUNDLE_FILE_NAME);
    const contextPath = fileURLToPath(CONTEXT_MODULE_URL);
    const result = buildSync({ ...esbuildOptionsFor(contextPath, outfile), logLevel: 'silent' });
    if (result.errors.length > 0)
      throw new Error(`bundling ${contextPath} failed: ${result.errors[0]?.text}`);
    shared = {
      dir,
      contextModule: pathToFileURL(outfile).href,
      compileCacheDir: join(dir, 'compile-cache'),
      openPools: 0,
    };
  }
  shared.openPools += 1;
  return shared;
}

function releaseSharedFolder(folder: SharedFolder): void {
  folder.openPools -= 1;
  if (folder.openPools > 0) return;
  if (shared === folder) shared = undefined;
  rmSync(folder.dir, { recursive: true, force: true });
}

/** Adds the environment id to a proxy result, leaving anything that is not one for the API to reject. */
function tagged(result: unknown, id: string): APIGatewayProxyResult {
  if (typeof result !== 'object' || result === null) return result as APIGatewayProxyResult;
  const proxy = result as APIGatewayProxyResult;
  return { ...proxy, headers: { ...(proxy.headers ?? {}), [ENVIRONMENT_ID_HEADER]: id } };
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);

export function createLambdaPool(options: LambdaPoolOptions): LambdaPool {
  const concurrency = options.concurrency ?? DEFAULT_LAMBDA_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_LAMBDA_CONCURRENCY) {
    throw new RangeError(`concurrency must be an integer between 1 and ${MAX_LAMBDA_CONCURRENCY}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;
  const initTimeoutMs = options.initTimeoutMs ?? LAMBDA_INIT_TIMEOUT_MS;
  const schedule = options.schedule ?? realSchedule;
  const now = options.now ?? Date.now;
  const source = toModuleUrl(options.handlerModule);
  const handlerModule = options.bundle === false ? source : deployedModule(source);
  const folder = openSharedFolder();
  const { contextModule, compileCacheDir } = folder;
  // One snapshot for every environment; each worker gets its own copy of it.
  const env: Record<string, string> = { ...options.env };
  const environments = new Map<string, Environment>();
  let nextId = 1;
  let closed = false;

  const finish = (environment: Environment, outcome: { result: unknown } | { error: Error }): void => {
    const current = environment.current;
    if (!current) return;
    current.cancelTimeout();
    environment.current = undefined;
    if ('error' in outcome) current.invocation.reject(outcome.error);
    else current.invocation.resolve(tagged(outcome.result, environment.id));
  };

  /** Forgets the environment and fails what it runs or waits to run; the caller terminates the worker. */
  const remove = (environment: Environment, error: LambdaInvocationError): void => {
    if (!environments.delete(environment.id)) return;
    environment.cancelStartLimit();
    finish(environment, { error });
    environment.reserved?.reject(error);
    environment.reserved = undefined;
  };

  /** Lambda stops an environment whose invocation timed out or was given up: its work stops with it. */
  const discard = (environment: Environment, error: LambdaInvocationError): void => {
    remove(environment, error);
    void environment.worker.terminate();
  };

  const timedOut = (environment: Environment): void =>
    discard(
      environment,
      new LambdaInvocationError(`Task timed out after ${seconds(timeoutMs)} seconds`, 'timeout'),
    );

  /** An overdue init goes on under the reserved invocation's function timeout, which starts now. */
  const charge = (environment: Environment): void => {
    environment.cancelStartLimit();
    environment.chargedSince = now();
    environment.cancelStartLimit = schedule(() => timedOut(environment), timeoutMs);
  };

  const dispatch = (environment: Environment, invocation: Invocation): void => {
    environment.state = 'busy';
    environment.invocations += 1;
    // The function timeout starts here, at dispatch (an init within its limit is not part of it),
    // unless an overdue init already started it.
    const since = environment.chargedSince;
    environment.chargedSince = undefined;
    const budgetMs = since === undefined ? timeoutMs : Math.max(0, timeoutMs - (now() - since));
    const cancelTimeout = schedule(() => timedOut(environment), budgetMs);
    environment.current = { invocation, cancelTimeout };
    const message: InvokeMessage = {
      type: 'invoke',
      event: invocation.event,
      context: {
        requestId: invocation.context.awsRequestId,
        timeoutMs: budgetMs,
        functionName: options.functionName ?? invocation.context.functionName,
        memoryLimitInMB: options.memoryLimitInMB ?? Number(invocation.context.memoryLimitInMB),
      },
    };
    environment.worker.postMessage(message);
  };

  const start = (reserved?: Invocation): Environment => {
    const id = `env-${nextId}`;
    nextId += 1;
    const capture = options.onOutput;
    const worker = new Worker(ENTRY_URL, {
      env,
      workerData: { handlerModule, contextModule, compileCacheDir },
      // Node's defaults, as a Lambda environment starts with: not this process's flags (under `npm start`
      // tsx's loader, which tripled an environment's start-up CPU; under vitest its own hooks).
      execArgv: [],
      stdout: capture !== undefined,
      stderr: capture !== undefined,
    });
    if (capture !== undefined) {
      for (const stream of [worker.stdout, worker.stderr]) {
        createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
          capture(line, id),
        );
      }
    }
    const exited = new Promise<void>((done) => worker.once('exit', () => done()));
    let settleReady: (error?: Error) => void = () => {};
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      settleReady = (error) => (error ? rejectReady(error) : resolveReady());
    });
    ready.catch(() => {}); // observed by warm() only
    const environment: Environment = {
      id,
      worker,
      state: 'starting',
      invocations: 0,
      current: undefined,
      exited,
      ready,
      reserved,
      cancelStartLimit: () => {},
      initOverdue: false,
      chargedSince: undefined,
    };
    environments.set(id, environment);
    const unclaimedLimit = (): void => {
      environment.cancelStartLimit = schedule(
        () => {
          const error = new LambdaInvocationError(
            `init did not finish within ${seconds(Math.max(UNCLAIMED_INIT_LIMIT_MS, timeoutMs))} seconds`,
            'init-timeout',
          );
          settleReady(error);
          discard(environment, error);
        },
        Math.max(0, Math.max(UNCLAIMED_INIT_LIMIT_MS, timeoutMs) - initTimeoutMs),
      );
    };
    environment.cancelStartLimit = schedule(() => {
      environment.initOverdue = true;
      if (environment.reserved) charge(environment);
      else unclaimedLimit();
    }, initTimeoutMs);
    const cancelInit = (): void => environment.cancelStartLimit();

    worker.on('message', (message: EnvironmentMessage) => {
      switch (message.type) {
        case 'ready': {
          cancelInit();
          if (!environments.has(id)) return;
          environment.state = 'idle';
          settleReady();
          const reservedInvocation = environment.reserved;
          environment.reserved = undefined;
          if (reservedInvocation) dispatch(environment, reservedInvocation);
          return;
        }
        case 'init-error': {
          // Lambda reports an init failure to the invocation that triggered it, then discards the environment.
          cancelInit();
          const error = new LambdaInvocationError(`init failed: ${message.message}`, 'init-failed');
          settleReady(error);
          discard(environment, error);
          return;
        }
        case 'result':
          finish(environment, { result: message.result });
          if (environments.has(id)) environment.state = 'idle';
          return;
        case 'error':
          // The handler threw: the invocation fails, the environment stays warm (as in Lambda).
          finish(environment, {
            error: new LambdaInvocationError(`${message.name}: ${message.message}`, 'handler-error'),
          });
          if (environments.has(id)) environment.state = 'idle';
          return;
        default: {
          const exhaustive: never = message;
          throw new Error(`unknown environment message ${JSON.stringify(exhaustive)}`);
        }
      }
    });
    worker.on('error', (error) => {
      remove(
        environment,
        new LambdaInvocationError(`environment ${id} crashed`, 'environment-exited', { cause: error }),
      );
    });
    worker.on('exit', (code) => {
      cancelInit();
      const error = new LambdaInvocationError(`environment ${id} exited (${code})`, 'environment-exited');
      settleReady(error);
      remove(environment, error);
    });
    return environment;
  };

  /** Where an invocation runs: an idle environment, one starting with nobody waiting for it, or a new one. */
  const place = (invocation: Invocation): Environment | undefined => {
    const all = [...environments.values()];
    const idle = all.find((environment) => environment.state === 'idle');
    if (idle) {
      dispatch(idle, invocation);
      return idle;
    }
    const starting = all.find((environment) => environment.state === 'starting' && !environment.reserved);
    if (starting) {
      starting.reserved = invocation;
      if (starting.initOverdue) charge(starting);
      return starting;
    }
    if (environments.size < concurrency) return start(invocation);
    return undefined;
  };

  /** The caller gave up: a waiting invocation never runs, a running one dies with its environment. */
  const abandon = (environment: Environment, invocation: Invocation): void => {
    const error = new LambdaInvocationError('the caller gave up on the invocation', 'aborted');
    if (environment.reserved === invocation) {
      if (environment.chargedSince !== undefined) {
        // Its overdue init was running on this invocation's time: it goes with it.
        discard(environment, error);
        return;
      }
      environment.reserved = undefined;
      invocation.reject(error);
    } else if (environment.current?.invocation === invocation) {
      discard(environment, error);
    }
  };

  const invoke = (
    event: APIGatewayProxyEvent,
    context: Context,
    signal?: AbortSignal,
  ): Promise<APIGatewayProxyResult> =>
    new Promise<APIGatewayProxyResult>((resolveInvocation, rejectInvocation) => {
      if (closed) {
        rejectInvocation(new LambdaInvocationError('the pool is closed', 'pool-closed'));
        return;
      }
      if (signal?.aborted) {
        rejectInvocation(new LambdaInvocationError('the caller gave up on the invocation', 'aborted'));
        return;
      }
      let onAbort: (() => void) | undefined;
      const settled = () => {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      };
      const invocation: Invocation = {
        event,
        context,
        resolve: (result) => {
          settled();
          resolveInvocation(result);
        },
        reject: (error) => {
          settled();
          rejectInvocation(error);
        },
      };
      const environment = place(invocation);
      if (environment === undefined) {
        // Every environment is busy and the limit is reached: refused before anything runs.
        rejectInvocation(new TooManyRequestsException());
        return;
      }
      if (signal) {
        onAbort = () => abandon(environment, invocation);
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });

  const terminate = async (environment: Environment, error: LambdaInvocationError): Promise<void> => {
    remove(environment, error);
    await environment.worker.terminate();
    await environment.exited;
  };

  return Object.assign(invoke, {
    concurrency,
    isolated: true as const,
    async warm(count = 1): Promise<void> {
      if (closed) throw new LambdaInvocationError('the pool is closed', 'pool-closed');
      while (environments.size < Math.min(count, concurrency)) start();
      await Promise.all([...environments.values()].map((environment) => environment.ready));
    },
    environments(): EnvironmentInfo[] {
      return [...environments.values()].map(({ id, state, invocations }) => ({ id, state, invocations }));
    },
    async kill(id: string): Promise<void> {
      const environment = environments.get(id);
      if (!environment) throw new Error(`no environment ${id}`);
      await terminate(
        environment,
        new LambdaInvocationError(`environment ${id} was killed`, 'environment-exited'),
      );
    },
    async close(): Promise<void> {
      const wasClosed = closed;
      closed = true;
      const error = new LambdaInvocationError('the pool is closed', 'pool-closed');
      await Promise.all([...environments.values()].map((environment) => terminate(environment, error)));
      if (!wasClosed) releaseSharedFolder(folder);
    },
  });
}
