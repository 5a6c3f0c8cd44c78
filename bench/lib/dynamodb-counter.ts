/**
 * Counts the DynamoDB requests a child makes: a loopback HTTP relay in front of the local engine
 * (dynalite) that tallies each request's operation from its `X-Amz-Target` header and passes it on
 * unchanged. Only the traffic child goes through it, so its extra hop never enters a latency figure.
 *
 * @example
 * const counter = await startDynamoDbCounter(dynamodb.url);
 * // child env: AWS_ENDPOINT_URL_DYNAMODB=counter.url ... then:
 * counter.snapshot(); // { PutItem: 20, DeleteItem: 20 }
 */
import { createServer, request } from 'node:http';
import type { Socket } from 'node:net';

/** Operation name → requests. */
export type OperationCounts = Record<string, number>;

/** `DynamoDB_20120810.PutItem` → `PutItem`; a missing or odd header counts as `unknown`. */
export function dynamoDbOperation(target: string | string[] | undefined): string {
  const value = Array.isArray(target) ? target[0] : target;
  if (value === undefined || value === '') return 'unknown';
  const name = value.slice(value.lastIndexOf('.') + 1);
  return /^[A-Za-z]+$/.test(name) ? name : 'unknown';
}

/** What happened between two snapshots, per operation (operations with no requests left out). */
export function countsBetween(before: OperationCounts, after: OperationCounts): OperationCounts {
  const delta: OperationCounts = {};
  for (const [operation, count] of Object.entries(after)) {
    const added = count - (before[operation] ?? 0);
    if (added !== 0) delta[operation] = added;
  }
  return delta;
}

export function totalOf(counts: OperationCounts): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

export interface DynamoDbCounter {
  readonly url: string;
  /** Requests per operation so far (a copy). */
  snapshot(): OperationCounts;
  close(): Promise<void>;
}

export async function startDynamoDbCounter(target: string): Promise<DynamoDbCounter> {
  const upstream = new URL(target);
  const counts: OperationCounts = {};
  const sockets = new Set<Socket>();
  const server = createServer((incoming, outgoing) => {
    const operation = dynamoDbOperation(incoming.headers['x-amz-target']);
    counts[operation] = (counts[operation] ?? 0) + 1;
    const forwarded = request(
      {
        host: '127.0.0.1',
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the DynamoDB counter has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    snapshot: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
