/**
 * The sandbox over HTTP: turns each Node request into the core's request, and writes the core's
 * Fetch `Response` back, streaming its body. A {@link SandboxNetworkError} resets the socket; a body
 * stream that fails mid-way destroys it (the client sees a truncated body). The request's signal
 * aborts when the connection closes early, so hangs end with their socket.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ServerLifecycle } from '../loopback-server.ts';
import { SandboxNetworkError } from './faults.ts';

export interface SandboxIncoming {
  method: string;
  /** Path and query, e.g. `/_sandbox/webhooks?secret=1`. */
  target: string;
  headers: Headers;
  /** The body, cut at the transport's limit; `bodyBytes` is how many bytes were sent. */
  body: Buffer;
  bodyBytes: number;
  remoteAddress: string;
  signal: AbortSignal;
}

export type SandboxAnswer = (incoming: SandboxIncoming) => Promise<Response>;

export interface ListeningSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; bytes: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), bytes: size }));
    req.on('error', reject);
  });
}

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  if (res.destroyed || res.headersSent) return;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    }
    res.end();
  } catch {
    // A body that fails mid-way: the client sees the connection end early.
    res.destroy();
  }
}

/** Serves `answer` on 127.0.0.1 (`port` 0: any free port); reads bodies up to `bodyLimit` bytes. */
export async function serveSandbox(
  answer: SandboxAnswer,
  port: number | undefined,
  bodyLimit: number,
): Promise<ListeningSandbox> {
  const lifecycle = new ServerLifecycle();
  const server = createServer({ keepAlive: true }, (req, res) => {
    // An aborted client must not turn into an unhandled 'error' event.
    res.on('error', () => {});
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort(new Error('client connection closed'));
    });
    const handle = async (): Promise<void> => {
      const { body, bytes } = await readBody(req, bodyLimit);
      const response = await answer({
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        headers: headersOf(req),
        body,
        bodyBytes: bytes,
        remoteAddress: req.socket.remoteAddress ?? '127.0.0.1',
        signal: gone.signal,
      });
      await writeResponse(response, res);
    };
    handle().catch((error: unknown) => {
      if (error instanceof SandboxNetworkError || gone.signal.aborted) {
        req.socket.destroy();
        return;
      }
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"message":"sandbox error"}');
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  const { url, port: bound } = await lifecycle.listen(server, port);
  return { url, port: bound, close: () => lifecycle.close(server) };
}
