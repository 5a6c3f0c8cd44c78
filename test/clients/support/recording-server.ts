/**
 * A tiny HTTP server on 127.0.0.1 for the client tests: it records every request (method, target,
 * headers, body) and answers with whatever the test scripted (canned bodies, a hang, a reset).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { ServerLifecycle } from '../../../local/loopback-server.ts';

export interface RecordedRequest {
  method: string;
  /** The request target as received, e.g. `/prod/client`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Answer =
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Never answers (until the server closes). */
  | 'hang'
  /** Destroys the connection without an answer. */
  | 'reset';

export interface RecordingServer {
  /** e.g. `http://127.0.0.1:54321` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** How the next requests are answered (the last answer repeats). */
  answer(...answers: Answer[]): void;
  close(): Promise<void>;
}

export function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const lifecycle = new ServerLifecycle();
  const requests: RecordedRequest[] = [];
  let queue: Answer[] = [{ status: 204 }];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer = (queue.length > 1 ? queue.shift() : queue[0]) as Answer;
      if (answer === 'hang') return;
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  const { url } = await lifecycle.listen(server, 0);
  return {
    url,
    requests,
    answer: (...answers) => {
      queue = answers;
    },
    close: () => lifecycle.close(server),
  };
}
