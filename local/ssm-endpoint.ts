/**
 * A local SSM Parameter Store endpoint that the real `@aws-sdk/client-ssm` and the AWS CLI can talk to
 * (AWS JSON 1.1: `POST /`, `x-amz-target: AmazonSSM.<Operation>`). Point the SDK at it with
 * `AWS_ENDPOINT_URL_SSM=<url>` plus fake credentials and a region; the CLI with `--endpoint-url`.
 *
 * Operations: `GetParameter`, `GetParameters` (with `name:version` and `name:label` selectors),
 * `PutParameter` (versions, `Overwrite`, `Type`), `GetParameterHistory`, `DescribeParameters`,
 * `GetParametersByPath` (`Recursive`), `DeleteParameter`, `LabelParameterVersion`; the store and its
 * error types are in `ssm-store.ts`. Anything else is `UnknownOperationException`.
 *
 * @example
 * ```ts
 * const ssm = await startSsmEndpoint({ parameters: { '/affix/local/client-id': { value: 'id' } } });
 * process.env.AWS_ENDPOINT_URL_SSM = ssm.url;
 * ```
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { sendJson } from './json-reply.ts';
import { ServerLifecycle } from './loopback-server.ts';
import { createSsmStore, SsmError, type SsmParameterType } from './ssm-store.ts';

export type { SsmParameterType };

export interface SsmParameterInput {
  value: string;
  type?: SsmParameterType;
}

export type SsmFault =
  | {
      kind: 'error';
      type: 'ThrottlingException' | 'AccessDeniedException' | 'InternalServerError' | (string & {});
      status?: number;
      message?: string;
    }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number };

export interface SsmRequest {
  /** e.g. `AmazonSSM.GetParameters`; empty string when the header was missing. */
  target: string;
  names: string[];
  withDecryption: boolean;
  at: number;
}

export interface SsmEndpointOptions {
  port?: number;
  parameters?: Record<string, SsmParameterInput>;
  region?: string;
  accountId?: string;
}

export interface SsmEndpoint {
  readonly url: string;
  readonly port: number;
  /** Creates or overwrites a parameter (a new version); Type defaults to the existing type or String. */
  setParameter(name: string, value: string, type?: SsmParameterType): void;
  deleteParameter(name: string): void;
  /** Log of parsed requests, oldest first. Never holds parameter values. */
  readonly requests: readonly SsmRequest[];
  readonly requestCount: number;
  resetRequests(): void;
  injectFault(fault: SsmFault, opts?: { times?: number }): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const JSON_11 = 'application/x-amz-json-1.1';
const MAX_NAMES = 10;

export async function startSsmEndpoint(options: SsmEndpointOptions = {}): Promise<SsmEndpoint> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const store = createSsmStore({ region, accountId });
  let requests: SsmRequest[] = [];
  let faults: { fault: SsmFault; remaining: number }[] = [];
  const lifecycle = new ServerLifecycle();

  const setParameter = (name: string, value: string, type?: SsmParameterType): void => {
    store.put({ Name: name, Value: value, Type: type, Overwrite: true });
  };
  for (const [name, input] of Object.entries(options.parameters ?? {}))
    setParameter(name, input.value, input.type);

  const sleep = (ms: number): Promise<void> => lifecycle.sleep(ms);

  const takeFault = (): SsmFault | undefined => {
    const entry = faults[0];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults.shift();
    return entry.fault;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readAll(req);
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (req.method !== 'POST' || path !== '/') {
      sendError(res, 404, 'UnknownOperationException', `No operation at ${req.method} ${path}`);
      return;
    }
    const targetHeader = req.headers['x-amz-target'];
    const target = typeof targetHeader === 'string' ? targetHeader : '';
    let body: Record<string, unknown> = {};
    let parseError: string | undefined;
    try {
      const parsed: unknown = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        body = parsed as Record<string, unknown>;
      } else {
        parseError = 'Request body must be a JSON object';
      }
    } catch {
      parseError = 'Malformed JSON request body';
    }
    const names = requestedNames(target, body);
    const withDecryption = body.WithDecryption === true;
    requests.push({ target, names, withDecryption, at: Date.now() });

    const fault = takeFault();
    if (fault?.kind === 'hang') return; // close() destroys the socket
    if (fault?.kind === 'delay') await sleep(fault.ms);
    if (fault?.kind === 'error') {
      const status = fault.status ?? (fault.type === 'InternalServerError' ? 500 : 400);
      sendError(res, status, fault.type, fault.message ?? `Injected ${fault.type}`);
      return;
    }

    const authorization = req.headers.authorization;
    if (typeof authorization !== 'string' || !authorization.startsWith('AWS4-HMAC-SHA256')) {
      sendError(res, 400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      return;
    }
    if (parseError !== undefined) {
      sendError(res, 400, 'SerializationException', parseError);
      return;
    }

    try {
      sendAwsJson(res, 200, operate(target, body, names, withDecryption));
    } catch (error) {
      if (!(error instanceof SsmError)) throw error;
      sendError(res, error.status, error.type, error.message);
    }
  };

  /** One operation's answer; failures throw {@link SsmError} with AWS's error type. */
  const operate = (
    target: string,
    body: Record<string, unknown>,
    names: string[],
    withDecryption: boolean,
  ): unknown => {
    switch (target) {
      case 'AmazonSSM.GetParameter': {
        const name = names[0];
        if (name === undefined) {
          throw new SsmError('ValidationException', "1 validation error detected: Value null at 'name'");
        }
        return { Parameter: store.get(name, withDecryption) };
      }
      case 'AmazonSSM.GetParameters':
        if (names.length === 0 || names.length > MAX_NAMES) {
          throw new SsmError(
            'ValidationException',
            `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and ${MAX_NAMES}`,
          );
        }
        return store.getMany(names, withDecryption);
      case 'AmazonSSM.PutParameter':
        return store.put(body);
      case 'AmazonSSM.GetParameterHistory':
        return store.history(body);
      case 'AmazonSSM.DescribeParameters':
        return store.describe(body);
      case 'AmazonSSM.GetParametersByPath':
        return store.byPath(body);
      case 'AmazonSSM.DeleteParameter': {
        const name = names[0];
        if (name === undefined) {
          throw new SsmError('ValidationException', "1 validation error detected: Value null at 'name'");
        }
        store.delete(name);
        return {};
      }
      case 'AmazonSSM.LabelParameterVersion':
        return store.label(body);
      default:
        throw new SsmError('UnknownOperationException', `Unknown operation ${target || '(no x-amz-target)'}`);
    }
  };

  const server = createServer((req, res) => {
    res.on('error', () => {});
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) sendError(res, 500, 'InternalServerError', 'local SSM error');
      else res.destroy();
    });
  });
  const { url, port } = await lifecycle.listen(server, options.port);

  return {
    url,
    port,
    setParameter,
    deleteParameter(name) {
      if (store.has(name)) store.delete(name);
    },
    get requests() {
      return requests;
    },
    get requestCount() {
      return requests.length;
    },
    resetRequests() {
      requests = [];
    },
    injectFault(fault, opts = {}) {
      const times = opts.times ?? 1;
      if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
      faults.push({ fault, remaining: times });
    },
    clearFaults() {
      faults = [];
    },
    close: () => lifecycle.close(server),
  };
}

function requestedNames(_target: string, body: Record<string, unknown>): string[] {
  if (typeof body.Name === 'string') return [body.Name];
  if (Array.isArray(body.Names)) return body.Names.filter((name): name is string => typeof name === 'string');
  return [];
}

/** The JSON protocol's answer: its content type and a request id, as SSM sends. */
function sendAwsJson(res: ServerResponse, status: number, body: unknown): void {
  sendJson(res, status, body, { 'content-type': JSON_11, 'x-amzn-requestid': randomUUID() });
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendAwsJson(res, status, { __type: type, message });
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
