/**
 * A real DynamoDB engine on 127.0.0.1 for `npm start` and the tests: dynalite (in-process, in memory;
 * the DynamoDB JSON protocol, conditional writes included), with the proxy's state table created.
 * Point the SDK at it with `AWS_ENDPOINT_URL_DYNAMODB=<url>` plus fake credentials and a region.
 *
 * dynalite has no transactions: `dynamodb-transactions.ts` adds `TransactWriteItems` in front of it.
 * dynalite does not return the item of a failed condition (`ReturnValuesOnConditionCheckFailure`);
 * the write lock then reads the lease with one `GetItem`, as it would on any such engine.
 *
 * @example
 * ```ts
 * const dynamodb = await startLocalDynamoDb({ port: 0 });
 * process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.url;
 * process.env.STATE_TABLE_NAME = dynamodb.tableName;
 * ```
 */
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { addTransactWriteItems } from './dynamodb-transactions.ts';
import { ServerLifecycle } from './loopback-server.ts';

export const DEFAULT_STATE_TABLE_NAME = 'affix-webhook-config-local-state';

export interface LocalDynamoDbOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  tableName?: string;
}

export interface LocalDynamoDb {
  readonly url: string;
  readonly port: number;
  readonly tableName: string;
  /** An SDK client for this engine (fake credentials), for tests that look at the table. */
  client(): DynamoDBClient;
  close(): Promise<void>;
}

/** The state table as the stack defines it: string `pk` and `sk`, on-demand. */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // dynalite answers CreateTable while the table is still CREATING (ResourceNotFoundException to item
  // calls until it is ACTIVE): wait for ACTIVE. The waiter's first check is immediate.
  await waitUntilTableExists({ client, minDelay: 1, maxDelay: 1, maxWaitTime: 10 }, { TableName: tableName });
}

export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const tableName = options.tableName ?? DEFAULT_STATE_TABLE_NAME;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const lifecycle = new ServerLifecycle();
  addTransactWriteItems(server);
  const { url, port } = await lifecycle.listen(server, options.port ?? 0);
  const clients: DynamoDBClient[] = [];
  const client = () => {
    const created = new DynamoDBClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    clients.push(created);
    return created;
  };
  try {
    await createStateTable(client(), tableName);
  } catch (error) {
    await lifecycle.close(server);
    throw error;
  }
  return {
    url,
    port,
    tableName,
    client,
    async close() {
      for (const created of clients.splice(0)) created.destroy();
      await lifecycle.close(server);
    },
  };
}
