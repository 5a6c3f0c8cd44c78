/**
 * The benchmark's child process: imports the bundled handler (exactly the Lambda bundle) and, on the
 * parent's commands, invokes `handler(event, context)` in-process the way the Lambda runtime does,
 * against the local Affix sandbox and SSM endpoint the parent runs on 127.0.0.1.
 *
 * The floor of the warm-overhead figure is made here too: the same upstream calls with plain `fetch`
 * (same process, same keep-alive pool), interleaved with the handler calls so noise hits both.
 *
 * For the write lock's cost a second bundle may be loaded beside the first: the bench-only entry with
 * a no-op lock (its own module state, clients and caches, as a second container would have). Changing
 * PATCHes through both and the floor then run in rotating triplets.
 *
 * Bundled by the parent into `bench/.work/` and started with plain `node` (no TypeScript loader in the
 * measured process). Its stdout, where Powertools writes a log/EMF line per request, is /dev/null.
 */
import { randomUUID } from 'node:crypto';
import { getHeapSpaceStatistics } from 'node:v8';
import {
  DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { routeOf } from '../../functions/contract/routes.ts';
import { LEASE_KEY } from '../../functions/core/adapters/dynamodb-write-lock.ts';
import { basicAuthHeader, CLIENT_PATH, SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { createLambdaContext } from '../../local/lambda-context.ts';
import { toApiGatewayEvent } from '../../local/lambda-event.ts';
import { rotation } from '../lib/interleave.ts';
import type {
  Command,
  HandlerSlot,
  InvokeRoute,
  MemorySnapshot,
  OverheadRoute,
  Reply,
  StatusCounts,
} from '../lib/protocol.ts';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const LAMBDA_TIMEOUT_MS = 15_000;
const NOOP_NAME = 'Bench constant name';
const GET_CLIENT = routeOf('getClient');
const UPDATE_CLIENT = routeOf('updateClient');

const affixUrl = `${process.env.AFFIX_BASE_URL}${CLIENT_PATH}`;
const authorization = basicAuthHeader(SANDBOX_DEFAULTS.clientId, SANDBOX_DEFAULTS.clientSecret[0]);

const handlers: Partial<Record<HandlerSlot, Handler>> = {};
let invocation = 0;

function send(reply: Reply): void {
  process.send?.(reply);
}

function tally(counts: StatusCounts, status: number): void {
  counts[status] = (counts[status] ?? 0) + 1;
}

/** The event and context API Gateway and Lambda would hand over; built outside the timed region. */
function nextInvocation(route: InvokeRoute): { event: APIGatewayProxyEvent; context: Context } {
  invocation += 1;
  const requestId = `bench-${process.pid}-${invocation}`;
  const context = createLambdaContext({ requestId, timeoutMs: LAMBDA_TIMEOUT_MS });
  const identity = LOCAL_IDENTITIES.writers.identity;
  if (route === 'GET') {
    return {
      event: toApiGatewayEvent({
        method: GET_CLIENT.method,
        url: GET_CLIENT.path,
        headers: {},
        body: null,
        identity,
        requestId,
      }),
      context,
    };
  }
  // Alternating names: every PATCH changes the client, so it reads and writes.
  const name =
    route === 'PATCH'
      ? `Bench name ${invocation % 2 === 0 ? 'A' : 'B'}`
      : route === 'PATCH-new'
        ? `Bench mix ${invocation}`
        : NOOP_NAME;
  const event = toApiGatewayEvent({
    method: UPDATE_CLIENT.method,
    url: UPDATE_CLIENT.path,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
    identity,
    requestId,
  });
  return { event, context };
}

function loadedHandler(slot: HandlerSlot = 'deployed'): Handler {
  const handler = handlers[slot];
  if (handler === undefined) throw new Error(`load the ${slot} bundle first`);
  return handler;
}

async function invokeOnce(route: InvokeRoute, statuses: StatusCounts): Promise<void> {
  const { event, context } = nextInvocation(route);
  const result = await loadedHandler()(event, context);
  tally(statuses, result.statusCode);
}

/** The same Affix exchanges the handler makes, with nothing around them. */
async function floorGet(statuses: StatusCounts): Promise<Record<string, unknown>> {
  const response = await fetch(affixUrl, { headers: { accept: 'application/json', authorization } });
  const body = JSON.parse(await response.text()) as Record<string, unknown>;
  tally(statuses, response.status);
  return body;
}

type AffixJson = Record<string, unknown>;

/** The Affix GET and POST of a write; `beforePost` gets the client read, and the answers are returned. */
async function floorPatch(
  statuses: StatusCounts,
  beforePost?: (read: AffixJson) => Promise<void>,
): Promise<{ read: AffixJson; written: AffixJson }> {
  const read = await floorGet(statuses);
  const { client_id: _id, ...current } = read;
  await beforePost?.(read);
  // Writes back what it read: the same request size, and the handler's next PATCH still changes the name.
  const response = await fetch(affixUrl, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', authorization },
    body: JSON.stringify(current),
  });
  const written = JSON.parse(await response.text()) as AffixJson;
  tally(statuses, response.status);
  return { read, written };
}

/**
 * The state item's three requests made directly with the SDK, on an item of its own in the same table
 * and engine the handler uses, carrying what the handler's carry (the local engine's time grows with
 * what it parses, stores and returns): the lease taken with the item returned (`ALL_NEW`); before the
 * POST, the pending mark with the read's masked view, the spent count and five field digests; and the
 * owner-conditioned release with the written view, the digests and a journal item of the same shape
 * (one `TransactWriteItems`). The values are built plainly (fixed digests, a cut-off mask), not with
 * the handler's code: computing them is part of what the handler adds.
 */
const dynamodb = new DynamoDBClient({ maxAttempts: 2 });
const floorKey = { pk: { S: 'bench-floor' }, sk: { S: 'state' } };
const ITEM_TTL_SECONDS = 7 * 24 * 3_600;
const FLOOR_DIGEST = { S: 'FloorDigestFloorDigest' };
const floorDigests = {
  M: Object.fromEntries(
    ['name', 'webhook_uri', 'redirect_uris', 'client_secret', 'unmodelled'].map((field) => [
      field,
      FLOOR_DIGEST,
    ]),
  ),
};
const FLOOR_ETAG = '"FloorEtagFloorEtagFloo"';
let floorReadAtMs = 0;

const text = (value: unknown) => ({ S: String(value) });
const texts = (values: unknown) => ({ L: (Array.isArray(values) ? values : []).map(text) });
/** The client as `GET /client` shows it: secrets cut to a mask and their last four characters. */
function floorView(client: AffixJson) {
  // Strictly later than the last one: the view's condition (an older view only) always holds.
  floorReadAtMs = Math.max(Date.now(), floorReadAtMs + 1);
  const secrets = Array.isArray(client.client_secret) ? client.client_secret : [];
  return {
    M: {
      client: {
        M: {
          client_id: text(client.client_id),
          name: text(client.name),
          redirect_uris: texts(client.redirect_uris),
          webhook_uri: client.webhook_uri === null ? { NULL: true } : text(client.webhook_uri),
          client_secret: { L: secrets.map((secret) => text(`****${String(secret).slice(-4)}`)) },
        },
      },
      etag: text(FLOOR_ETAG),
      readAtMs: { N: String(floorReadAtMs) },
    },
  };
}

/** The spent count's clause names and values, as the handler's state writes carry them. */
function spentNow() {
  const bucket = `spent_${Math.floor(Date.now() / 30_000)}`;
  return { bucket, ttl: { N: String(Math.ceil(Date.now() / 1_000) + ITEM_TTL_SECONDS) } };
}

async function floorLease(
  work: (beforePost: (read: AffixJson) => Promise<void>) => Promise<{ read: AffixJson; written: AffixJson }>,
): Promise<void> {
  const owner = randomUUID();
  const TableName = process.env.STATE_TABLE_NAME;
  const now = Date.now();
  await dynamodb.send(
    new UpdateItemCommand({
      TableName,
      Key: floorKey,
      UpdateExpression: 'SET #owner = :owner, #expires = :expires, #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(#owner) OR #expires < :now',
      ExpressionAttributeNames: { '#owner': 'owner', '#expires': 'expiresAtMs', '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':owner': { S: owner },
        ':expires': { N: String(now + 30_000) },
        ':now': { N: String(now) },
        ':ttl': { N: String(Math.ceil(now / 1_000) + ITEM_TTL_SECONDS) },
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );
  const beforePost = async (read: AffixJson) => {
    const { bucket, ttl } = spentNow();
    const view = floorView(read);
    await dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key: floorKey,
        UpdateExpression: `SET #ttl = :ttl, #spent = if_not_exists(#spent, :zero) + :one, #view = :view, #pending = :pending ADD #version :one`,
        ConditionExpression: '(attribute_not_exists(#view) OR #view.#readAtMs < :readAt) AND #owner = :owner',
        ExpressionAttributeNames: {
          '#ttl': 'ttl',
          '#spent': bucket,
          '#view': 'view',
          '#readAtMs': 'readAtMs',
          '#pending': 'pending',
          '#version': 'version',
          '#owner': 'owner',
        },
        ExpressionAttributeValues: {
          ':ttl': ttl,
          ':zero': { N: '0' },
          ':one': { N: '1' },
          ':readAt': view.M.readAtMs,
          ':view': view,
          ':pending': floorDigests,
          ':owner': { S: owner },
        },
      }),
    );
  };
  const { read, written } = await work(beforePost).catch(async (error: unknown) => {
    // Not expected (the floor's answers are tallied too); the lease must not block the next one.
    await dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key: floorKey,
        UpdateExpression: 'REMOVE #owner, #expires',
        ExpressionAttributeNames: { '#owner': 'owner', '#expires': 'expiresAtMs' },
      }),
    );
    throw error;
  });
  // The release with the written view and the change's journal entry, in one transaction, as a
  // changing write's release.
  const { bucket, ttl } = spentNow();
  const view = floorView(written);
  const atMs = Number(view.M.readAtMs.N);
  await dynamodb.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        {
          Update: {
            TableName,
            Key: floorKey,
            UpdateExpression:
              'SET #ttl = :ttl, #spent = if_not_exists(#spent, :zero) + :one, #view = :view, #fields = :fields, #changedAtMs = :at, #replaced = :replaced ADD #version :one REMOVE #pending, #owner, #expires',
            ConditionExpression: '(attribute_not_exists(#view) OR #view.#readAtMs < :at) AND #owner = :owner',
            ExpressionAttributeNames: {
              '#ttl': 'ttl',
              '#spent': bucket,
              '#view': 'view',
              '#readAtMs': 'readAtMs',
              '#fields': 'fields',
              '#changedAtMs': 'changedAtMs',
              '#replaced': 'replaced',
              '#version': 'version',
              '#pending': 'pending',
              '#owner': 'owner',
              '#expires': 'expiresAtMs',
            },
            ExpressionAttributeValues: {
              ':ttl': ttl,
              ':zero': { N: '0' },
              ':one': { N: '1' },
              ':view': view,
              ':fields': floorDigests,
              ':at': { N: String(atMs) },
              ':replaced': floorDigests,
              ':owner': { S: owner },
            },
          },
        },
        {
          Put: {
            TableName,
            Item: {
              pk: floorKey.pk,
              sk: { S: `change#${String(atMs).padStart(15, '0')}#${owner}` },
              ttl: { N: String(Math.ceil(atMs / 1_000) + 400 * 24 * 3_600) },
              entry: {
                M: {
                  at: { S: new Date(atMs).toISOString() },
                  actor: { S: LOCAL_IDENTITIES.writers.identity.userArn ?? 'floor' },
                  request_id: { S: owner },
                  fields: {
                    L: [{ M: { field: { S: 'name' }, before: text(read.name), after: text(written.name) } }],
                  },
                  etag_before: { S: FLOOR_ETAG },
                  etag_after: { S: FLOOR_ETAG },
                },
              },
            },
            ConditionExpression: 'attribute_not_exists(#sk)',
            ExpressionAttributeNames: { '#sk': 'sk' },
          },
        },
      ],
    }),
  );
}

/** A changing PATCH's I/O made directly: the lease around the Affix GET, the pending mark and the POST. */
const floorLeasedPatch = (statuses: StatusCounts) =>
  floorLease((beforePost) => floorPatch(statuses, beforePost));

async function overhead(command: Extract<Command, { op: 'overhead' }>): Promise<Reply> {
  const run = loadedHandler();
  const handlerMs: number[] = [];
  const floorMs: number[] = [];
  const statuses: StatusCounts = {};
  const floorStatuses: StatusCounts = {};
  const floor: (counts: StatusCounts) => Promise<unknown> =
    command.route === 'GET' ? floorGet : floorLeasedPatch;
  const timeHandler = async (route: OverheadRoute, counts: StatusCounts): Promise<number> => {
    const { event, context } = nextInvocation(route);
    const started = performance.now();
    const result = await run(event, context);
    const elapsed = performance.now() - started;
    tally(counts, result.statusCode);
    return elapsed;
  };
  const timeFloor = async (counts: StatusCounts): Promise<number> => {
    const started = performance.now();
    await floor(counts);
    return performance.now() - started;
  };

  // Warm-up: same loop, not recorded (JIT, connection pool).
  const ignored: StatusCounts = {};
  for (let i = 0; i < command.warmup; i += 1) {
    await timeHandler(command.route, ignored);
    await timeFloor(ignored);
  }
  const deadline = performance.now() + command.budgetMs;
  for (let i = 0; i < command.iterations && performance.now() < deadline; i += 1) {
    // Alternate which goes first, so neither always runs right after the other's garbage.
    if (i % 2 === 0) {
      handlerMs.push(await timeHandler(command.route, statuses));
      floorMs.push(await timeFloor(floorStatuses));
    } else {
      floorMs.push(await timeFloor(floorStatuses));
      handlerMs.push(await timeHandler(command.route, statuses));
    }
  }
  return { id: command.id, op: 'overhead', handlerMs, floorMs, statuses, floorStatuses };
}

/** The shared state item, as the handler's adapter keys it (`dynamodb-state.ts`). */
const cacheKey = { pk: { S: LEASE_KEY.pk }, sk: { S: LEASE_KEY.sk } };

/** The cache read itself: the one `GetItem` a cache hit needs, with nothing around it. */
async function floorCacheRead(statuses: StatusCounts): Promise<void> {
  const read = await dynamodb.send(
    new GetItemCommand({ TableName: process.env.STATE_TABLE_NAME, Key: cacheKey, ConsistentRead: true }),
  );
  tally(statuses, read.Item === undefined ? 404 : 200);
}

/** GETs answered from the shared cache, paired with the bare read of the item, alternating which goes first. */
async function cacheHit(command: Extract<Command, { op: 'cacheHit' }>): Promise<Reply> {
  const run = loadedHandler();
  const samples = { handlerMs: [] as number[], floorMs: [] as number[] };
  const counts = { statuses: {} as StatusCounts, floorStatuses: {} as StatusCounts };
  const timeHandler = async (statuses: StatusCounts): Promise<number> => {
    const { event, context } = nextInvocation('GET');
    const started = performance.now();
    const result = await run(event, context);
    const elapsed = performance.now() - started;
    tally(statuses, result.statusCode);
    return elapsed;
  };
  const timeFloor = async (statuses: StatusCounts): Promise<number> => {
    const started = performance.now();
    await floorCacheRead(statuses);
    return performance.now() - started;
  };
  const ignored: StatusCounts = {};
  for (let i = 0; i < command.warmup; i += 1) {
    await timeHandler(ignored);
    await timeFloor(ignored);
  }
  const deadline = performance.now() + command.budgetMs;
  for (let i = 0; i < command.iterations && performance.now() < deadline; i += 1) {
    if (i % 2 === 0) {
      samples.handlerMs.push(await timeHandler(counts.statuses));
      samples.floorMs.push(await timeFloor(counts.floorStatuses));
    } else {
      samples.floorMs.push(await timeFloor(counts.floorStatuses));
      samples.handlerMs.push(await timeHandler(counts.statuses));
    }
  }
  return { id: command.id, op: 'cacheHit', ...samples, ...counts };
}

type LockContender = 'locked' | 'unlocked' | 'floor';
const LOCK_CONTENDERS: readonly LockContender[] = ['locked', 'unlocked', 'floor'];

/** Changing PATCHes with the lease, without it, and the bare Affix calls, in rotating triplets. */
async function lockCost(command: Extract<Command, { op: 'lockCost' }>): Promise<Reply> {
  const locked = loadedHandler('deployed');
  const unlocked = loadedHandler('withoutLock');
  const samples: Record<LockContender, number[]> = { locked: [], unlocked: [], floor: [] };
  const counts: Record<LockContender, StatusCounts> = { locked: {}, unlocked: {}, floor: {} };
  const time = async (contender: LockContender, statuses: StatusCounts): Promise<number> => {
    if (contender === 'floor') {
      const started = performance.now();
      await floorPatch(statuses);
      return performance.now() - started;
    }
    const { event, context } = nextInvocation('PATCH');
    const run = contender === 'locked' ? locked : unlocked;
    const started = performance.now();
    const result = await run(event, context);
    const elapsed = performance.now() - started;
    tally(statuses, result.statusCode);
    return elapsed;
  };
  const ignored: StatusCounts = {};
  for (let i = 0; i < command.warmup; i += 1) {
    for (const contender of rotation(LOCK_CONTENDERS, i)) await time(contender, ignored);
  }
  const deadline = performance.now() + command.budgetMs;
  for (let i = 0; i < command.iterations && performance.now() < deadline; i += 1) {
    for (const contender of rotation(LOCK_CONTENDERS, i)) {
      samples[contender].push(await time(contender, counts[contender]));
    }
  }
  return {
    id: command.id,
    op: 'lockCost',
    lockedMs: samples.locked,
    unlockedMs: samples.unlocked,
    floorMs: samples.floor,
    statuses: counts.locked,
    unlockedStatuses: counts.unlocked,
    floorStatuses: counts.floor,
  };
}

async function memory(): Promise<MemorySnapshot> {
  const before = process.memoryUsage();
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('start the child with --expose-gc');
  // Full collections a few timer ticks apart, so objects only held by I/O still settling are gone too.
  for (let round = 0; round < 3; round += 1) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  collect();
  const after = process.memoryUsage();
  return {
    rssBytes: before.rss,
    heapUsedBytes: before.heapUsed,
    heapUsedAfterGcBytes: after.heapUsed,
    heapTotalAfterGcBytes: after.heapTotal,
    externalAfterGcBytes: after.external,
    rssAfterGcBytes: after.rss,
    heapSpacesAfterGcBytes: Object.fromEntries(
      getHeapSpaceStatistics()
        .filter((space) => space.space_used_size > 0)
        .map((space) => [space.space_name, space.space_used_size]),
    ),
  };
}

async function execute(command: Command): Promise<Reply> {
  switch (command.op) {
    case 'load': {
      const started = performance.now();
      const mod = (await import(command.module)) as { handler?: unknown };
      const importMs = performance.now() - started;
      if (typeof mod.handler !== 'function') throw new Error(`${command.module} exports no handler`);
      handlers[command.slot ?? 'deployed'] = mod.handler as Handler;
      return { id: command.id, op: 'load', importMs };
    }
    case 'invoke': {
      const statuses: StatusCounts = {};
      const started = performance.now();
      const routes = command.routes;
      const routeAt = (i: number): InvokeRoute => routes[i % routes.length] as InvokeRoute;
      if (command.parallel) {
        await Promise.all(Array.from({ length: command.count }, (_, i) => invokeOnce(routeAt(i), statuses)));
      } else {
        for (let i = 0; i < command.count; i += 1) await invokeOnce(routeAt(i), statuses);
      }
      return { id: command.id, op: 'invoke', statuses, elapsedMs: performance.now() - started };
    }
    case 'overhead':
      return overhead(command);
    case 'lockCost':
      return lockCost(command);
    case 'cacheHit':
      return cacheHit(command);
    case 'dropCache':
      // Only the view: the rest of the state item (digests, counts) stays as a real deployment keeps it.
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: process.env.STATE_TABLE_NAME,
          Key: cacheKey,
          UpdateExpression: 'REMOVE #view',
          ExpressionAttributeNames: { '#view': 'view' },
        }),
      );
      return { id: command.id, op: 'dropCache' };
    case 'memory':
      return { id: command.id, op: 'memory', ...(await memory()) };
  }
}

process.on('message', (message: Command) => {
  execute(message).then(
    (reply) => send(reply),
    (error: unknown) => {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      send({ id: message.id, op: 'error', message: text });
    },
  );
});

// The parent is gone (finished, failed or timed out): nothing left to do.
process.on('disconnect', () => process.exit(0));
