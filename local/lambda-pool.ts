/**
 * Lambda's concurrency model, locally: a pool of isolated execution environments (worker threads),
 * each importing the handler module itself (own configuration, own SSM/DynamoDB/Affix clients, own
 * caches), each running one invocation at a time and reused warm. A request that finds every
 * environment busy cold-starts a new one and runs in it, up to `concurrency`; past it, requests wait
 * in FIFO order for the next free environment (Lambda would throttle with 429; locally we queue so
 * load tests need no retries). An invocation that outlives the
 * function timeout kills its environment, as Lambda does; a crashed environment is replaced on demand.
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
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { LocalHandler } from './api-gateway.ts';
import { parseIntegerVariable } from './env-integer.ts';
import type { EnvironmentMessage, InvokeMessage } from './lambda-protocol.ts';

/** Lambda's default reserved-concurrency-free local limit. */
export const DEFAULT_LAMBDA_CONCURRENCY = 4;
export const MAX_LAMBDA_CONCURRENCY = 64;
/** The response header naming the environment that served an invocation. */
export const ENVIRONMENT_ID_HEADER = 'x-local-environment-id';

const ENTRY_URL = new URL('./lambda-environment.mjs', import.meta.url);

export interface LambdaPoolOptions {
  /** Module exporting `handler` (path or URL). */
  handlerModule: string;
  /**
   * The handler's whole environment (`process.env` inside each environment). Copied into each worker,
   * never shared with this process or between environments.
   */
  env: Record<string, string>;
  /** Most environments alive at once (default {@link DEFAULT_LAMBDA_CONCURRENCY}). */
  concurrency?: number;
  /** Function timeout: an invocation running longer kills its environment (default 10 s). */
  timeoutMs?: number;
  functionName?: string;
  memoryLimitInMB?: number;
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
  /** The live environments, oldest first. */
  environments(): EnvironmentInfo[];
  /**
   * Starts environments until `count` are alive and waits until they are ready (Lambda's provisioned
   * concurrency, in effect). Rejects when one fails its init, e.g. the handler module cannot load.
   */
  warm(count?: number): Promise<void>;
  /** Terminates one environment as a crash would: its in-flight invocation fails. */
  kill(id: string): Promise<void>;
  /** Terminates every environment; queued and in-flight invocations fail. */
  close(): Promise<void>;
}

/** The invocation failed the way Lambda reports it to API Gateway (which answers 502). */
export class LambdaInvocationError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'environment-exited' | 'init-failed' | 'handler-error' | 'pool-closed',
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
  current: { invocation: Invocation; timer: NodeJS.Timeout } | undefined;
  exited: Promise<void>;
  /** Settles when the handler module has loaded, or failed to. */
  ready: Promise<void>;
  /** The request whose arrival cold-started this environment: it runs here once init is done. */
  reserved: Invocation | undefined;
}

export function parseConcurrency(raw: string | undefined, name = 'LAMBDA_CONCURRENCY'): number {
  return parseIntegerVariable(name, raw, DEFAULT_LAMBDA_CONCURRENCY, 1, MAX_LAMBDA_CONCURRENCY);
}

function toModuleUrl(specifier: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(specifier) ? specifier : pathToFileURL(resolve(specifier)).href;
}

/** Adds the environment id to a proxy result, leaving anything that is not one for the API to reject. */
function tagged(result: unknown, id: string): APIGatewayProxyResult {
  if (typeof result !== 'object' || result === null) return result as APIGatewayProxyResult;
  const proxy = result as APIGatewayProxyResult;
  return { ...proxy, headers: { ...(proxy.headers ?? {}), [ENVIRONMENT_ID_HEADER]: id } };
}

export function createLambdaPool(options: LambdaPoolOptions): LambdaPool {
  const concurrency = options.concurrency ?? DEFAULT_LAMBDA_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_LAMBDA_CONCURRENCY) {
    throw new RangeError(`concurrency must be an integer between 1 and ${MAX_LAMBDA_CONCURRENCY}`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const handlerModule = toModuleUrl(options.handlerModule);
  // One snapshot for every environment; each worker gets its own copy of it.
  const env: Record<string, string> = { ...options.env };
  const environments = new Map<string, Environment>();
  const queue: Invocation[] = [];
  let nextId = 1;
  let closed = false;

  const finish = (environment: Environment, outcome: { result: unknown } | { error: Error }): void => {
    const current = environment.current;
    if (!current) return;
    clearTimeout(current.timer);
    environment.current = undefined;
    if ('error' in outcome) current.invocation.reject(outcome.error);
    else current.invocation.resolve(tagged(outcome.result, environment.id));
  };

  const remove = (environment: Environment, error: LambdaInvocationError): void => {
    if (!environments.delete(environment.id)) return;
    finish(environment, { error });
    environment.reserved?.reject(error);
    environment.reserved = undefined;
    pump();
  };

  const dispatch = (environment: Environment, invocation: Invocation): void => {
    environment.state = 'busy';
    environment.invocations += 1;
    const timer = setTimeout(() => {
      // Lambda stops the environment at the timeout; the next request gets a fresh one.
      const seconds = (timeoutMs / 1000).toFixed(2);
      remove(environment, new LambdaInvocationError(`Task timed out after ${seconds} seconds`, 'timeout'));
      void environment.worker.terminate();
    }, timeoutMs);
    environment.current = { invocation, timer };
    const message: InvokeMessage = {
      type: 'invoke',
      event: invocation.event,
      context: {
        requestId: invocation.context.awsRequestId,
        timeoutMs,
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
      workerData: { handlerModule },
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
    };
    environments.set(id, environment);

    worker.on('message', (message: EnvironmentMessage) => {
      switch (message.type) {
        case 'ready': {
          environment.state = 'idle';
          settleReady();
          const reservedInvocation = environment.reserved;
          environment.reserved = undefined;
          if (reservedInvocation) dispatch(environment, reservedInvocation);
          else pump();
          return;
        }
        case 'init-error': {
          // Lambda reports an init failure to the invocation that triggered it, then discards the environment.
          const error = new LambdaInvocationError(`init failed: ${message.message}`, 'init-failed');
          settleReady(error);
          environments.delete(id);
          environment.reserved?.reject(error);
          environment.reserved = undefined;
          void worker.terminate();
          pump();
          return;
        }
        case 'result':
          finish(environment, { result: message.result });
          environment.state = 'idle';
          pump();
          return;
        case 'error':
          // The handler threw: the invocation fails, the environment stays warm (as in Lambda).
          finish(environment, {
            error: new LambdaInvocationError(`${message.name}: ${message.message}`, 'handler-error'),
          });
          environment.state = 'idle';
          pump();
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
      const error = new LambdaInvocationError(`environment ${id} exited (${code})`, 'environment-exited');
      settleReady(error);
      remove(environment, error);
    });
    return environment;
  };

  /** Hands waiting requests (FIFO) to idle environments, or to new ones while below the limit. */
  function pump(): void {
    if (closed) return;
    while (queue.length > 0) {
      const idle = [...environments.values()].find((environment) => environment.state === 'idle');
      if (idle) dispatch(idle, queue.shift() as Invocation);
      else if (environments.size < concurrency) start(queue.shift());
      else return;
    }
  }

  const invoke = (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> =>
    new Promise<APIGatewayProxyResult>((resolveInvocation, rejectInvocation) => {
      if (closed) {
        rejectInvocation(new LambdaInvocationError('the pool is closed', 'pool-closed'));
        return;
      }
      queue.push({ event, context, resolve: resolveInvocation, reject: rejectInvocation });
      pump();
    });

  const terminate = async (environment: Environment, error: LambdaInvocationError): Promise<void> => {
    remove(environment, error);
    await environment.worker.terminate();
    await environment.exited;
  };

  return Object.assign(invoke, {
    concurrency,
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
      closed = true;
      const error = new LambdaInvocationError('the pool is closed', 'pool-closed');
      for (const waiting of queue.splice(0)) waiting.reject(error);
      await Promise.all([...environments.values()].map((environment) => terminate(environment, error)));
    },
  });
}
