/**
 * `TransactWriteItems` for the local DynamoDB engine, which dynalite lacks: put in front of dynalite's
 * own request handler on the same server. A transaction runs alone (every other request waits for it,
 * and it waits for those under way), so no request sees it half done: each write is applied with its
 * own condition through dynalite's handler (which validates the request and evaluates the condition)
 * and returns the item as it was, and when any condition fails the applied ones are put back and the
 * caller gets `TransactionCanceledException` with one cancellation reason per item, as DynamoDB
 * answers. The steps are handed to that handler in this process: the caller's request came over HTTP,
 * its steps need no second trip through the socket layer.
 *
 * Not emulated: `ClientRequestToken` idempotency, `ReturnValuesOnConditionCheckFailure`, conflicts
 * with other transactions (a transaction here never runs beside another request).
 *
 * @example
 * const server = dynalite({ createTableMs: 0 });
 * addTransactWriteItems(server);
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

type Json = Record<string, unknown>;
type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const API = 'DynamoDB_20120810';
/** dynalite checks that a signature is present, not what it signs. */
const LOCAL_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0';

/** Shared for single requests, exclusive for a transaction; first come, first served. */
class Turns {
  private shared = 0;
  private exclusive = false;
  private readonly queue: { exclusive: boolean; start: () => void }[] = [];

  run<T>(exclusive: boolean, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        exclusive,
        start: () => {
          work()
            .then(resolve, reject)
            .finally(() => {
              if (exclusive) this.exclusive = false;
              else this.shared -= 1;
              this.pump();
            });
        },
      });
      this.pump();
    });
  }

  private pump(): void {
    for (let next = this.queue[0]; next !== undefined; next = this.queue[0]) {
      if (this.exclusive || (next.exclusive && this.shared > 0)) return;
      this.queue.shift();
      if (next.exclusive) this.exclusive = true;
      else this.shared += 1;
      next.start();
    }
  }
}

class DynamoDbError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Json = {},
  ) {
    super(message);
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function answer(response: ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body);
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/x-amz-json-1.0');
  response.setHeader('x-amzn-RequestId', randomUUID());
  response.end(text);
}

interface Operation {
  kind: 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  table: string;
  key: Json;
  body: Json;
}

export interface LocalTransactionOptions {
  /** For tests: runs after a transaction's writes, before it answers (or undoes them). */
  afterWrites?: () => Promise<void>;
}

/**
 * One request to dynalite's own handler, in this process: the handler reads the body from `data` and
 * `end` events and answers with `setHeader`/`end`, which is all it asks of a request and a response.
 */
function callHandler(
  handler: Handler,
  operation: string,
  body: Json,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const request = Object.assign(new EventEmitter(), {
      method: 'POST',
      url: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `${API}.${operation}`,
        'x-amz-date': '20200101T000000Z',
        authorization: LOCAL_AUTHORIZATION,
      },
    });
    const response = {
      statusCode: 200,
      setHeader: () => response,
      end: (text?: string) => resolve({ status: response.statusCode, text: text ?? '' }),
    };
    handler(request as unknown as IncomingMessage, response as unknown as ServerResponse);
    request.emit('data', Buffer.from(JSON.stringify(body), 'utf8'));
    request.emit('end');
  });
}

/** Puts transactions in front of `server`'s dynalite handler; the transaction's steps go to that handler. */
export function addTransactWriteItems(server: Server, options: LocalTransactionOptions = {}): void {
  const [listener] = server.listeners('request') as Handler[];
  if (listener === undefined) throw new Error('the server has no request handler');
  const dynaliteHandler: Handler = listener;
  server.removeAllListeners('request');
  const turns = new Turns();
  const keySchemas = new Map<string, string[]>();

  async function call(operation: string, body: Json): Promise<Json> {
    const reply = await callHandler(dynaliteHandler, operation, body);
    const parsed = (reply.text === '' ? {} : JSON.parse(reply.text)) as Json;
    if (reply.status >= 200 && reply.status < 300) return parsed;
    const type = String(parsed.__type ?? 'UnknownError');
    throw new DynamoDbError(type.slice(type.lastIndexOf('#') + 1), String(parsed.message ?? ''));
  }

  async function keyOf(table: string, item: Json): Promise<Json> {
    let names = keySchemas.get(table);
    if (names === undefined) {
      const described = (await call('DescribeTable', { TableName: table })) as {
        Table: { KeySchema: { AttributeName: string }[] };
      };
      names = described.Table.KeySchema.map((part) => part.AttributeName);
      keySchemas.set(table, names);
    }
    return Object.fromEntries(names.map((name) => [name, item[name]]));
  }

  async function operationOf(entry: Json): Promise<Operation> {
    const kinds = (['Put', 'Update', 'Delete', 'ConditionCheck'] as const).filter((kind) => kind in entry);
    const [kind] = kinds;
    if (kind === undefined || kinds.length !== 1) {
      throw new DynamoDbError('ValidationException', 'Each TransactItem must name exactly one operation');
    }
    const body = entry[kind] as Json;
    const table = String(body.TableName);
    const key = kind === 'Put' ? await keyOf(table, body.Item as Json) : (body.Key as Json);
    return { kind, table, key, body };
  }

  /** What applying one operation left: whether its condition held, and the item as it was before. */
  type Applied = { ok: true; old: Json | undefined } | { ok: false };

  /** Applies one operation through dynalite, learning the old image from the write itself (`ALL_OLD`). */
  async function apply(operation: Operation): Promise<Applied> {
    const { body } = operation;
    const conditional = async (name: string, request: Json): Promise<Applied> => {
      try {
        const reply = await call(name, { ...request, ReturnValues: 'ALL_OLD' });
        return { ok: true, old: reply.Attributes as Json | undefined };
      } catch (error) {
        if (error instanceof DynamoDbError && error.type === 'ConditionalCheckFailedException')
          return { ok: false };
        throw error;
      }
    };
    const condition = {
      ...(body.ConditionExpression === undefined ? {} : { ConditionExpression: body.ConditionExpression }),
      ...(body.ExpressionAttributeNames === undefined
        ? {}
        : { ExpressionAttributeNames: body.ExpressionAttributeNames }),
      ...(body.ExpressionAttributeValues === undefined
        ? {}
        : { ExpressionAttributeValues: body.ExpressionAttributeValues }),
    };
    switch (operation.kind) {
      case 'Put':
        return conditional('PutItem', { TableName: operation.table, Item: body.Item, ...condition });
      case 'Delete':
        return conditional('DeleteItem', { TableName: operation.table, Key: operation.key, ...condition });
      case 'Update':
        return conditional('UpdateItem', {
          TableName: operation.table,
          Key: operation.key,
          UpdateExpression: body.UpdateExpression,
          ...condition,
        });
      case 'ConditionCheck': {
        // The item written back as it was, under the check's condition: nothing changes either way.
        const read = await call('GetItem', {
          TableName: operation.table,
          Key: operation.key,
          ConsistentRead: true,
        });
        const old = read.Item as Json | undefined;
        return old === undefined
          ? conditional('DeleteItem', { TableName: operation.table, Key: operation.key, ...condition })
          : conditional('PutItem', { TableName: operation.table, Item: old, ...condition });
      }
    }
  }

  async function restore(operation: Operation, old: Json | undefined): Promise<void> {
    if (old === undefined) await call('DeleteItem', { TableName: operation.table, Key: operation.key });
    else await call('PutItem', { TableName: operation.table, Item: old });
  }

  async function transact(request: Json): Promise<Json> {
    const items = request.TransactItems;
    if (!Array.isArray(items) || items.length === 0 || items.length > 100) {
      throw new DynamoDbError('ValidationException', 'TransactItems must hold 1 to 100 items');
    }
    const operations = await Promise.all(items.map((item) => operationOf(item as Json)));
    const keys = operations.map((operation) => JSON.stringify([operation.table, operation.key]));
    if (new Set(keys).size !== keys.length) {
      throw new DynamoDbError(
        'ValidationException',
        'Transaction request cannot include multiple operations on one item',
      );
    }
    // The items are distinct and nothing else runs meanwhile, so they may be written side by side.
    const outcomes = await Promise.allSettled(operations.map((operation) => apply(operation)));
    await options.afterWrites?.();
    const undo = () =>
      Promise.all(
        outcomes.map((outcome, index) =>
          outcome.status === 'fulfilled' && outcome.value.ok
            ? restore(operations[index] as Operation, outcome.value.old)
            : undefined,
        ),
      );
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) {
      await undo();
      throw failure.reason;
    }
    const passed = outcomes.map((outcome) => outcome.status === 'fulfilled' && outcome.value.ok);
    if (passed.every(Boolean)) return {};
    await undo();
    const reasons = passed.map((ok) =>
      ok ? { Code: 'None' } : { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    );
    throw new DynamoDbError(
      'TransactionCanceledException',
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      { CancellationReasons: reasons },
    );
  }

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target !== `${API}.TransactWriteItems`) {
      void turns.run(
        false,
        () =>
          new Promise<void>((resolve) => {
            response.once('close', () => resolve());
            dynaliteHandler(request, response);
          }),
      );
      return;
    }
    void turns.run(true, async () => {
      try {
        const body = JSON.parse(await readBody(request)) as Json;
        answer(response, 200, await transact(body));
      } catch (error) {
        if (error instanceof DynamoDbError) {
          answer(response, 400, {
            __type: `com.amazonaws.dynamodb.v20120810#${error.type}`,
            message: error.message,
            ...error.extra,
          });
        } else {
          answer(response, 500, {
            __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
            message: 'local transaction failed',
          });
        }
      }
    });
  });
}
