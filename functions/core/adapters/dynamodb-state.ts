/**
 * Secondary adapter: the shared state item in DynamoDB (`pk` = `affix-client`, `sk` = `state`), one
 * item holding the write lease, the view, the back-off, the outside-change digests and the spent
 * counts, so a write reads and writes them together:
 *
 * - `load`: one consistent `GetItem`;
 * - `acquire`: one `UpdateItem` that takes the lease when no live lease exists and returns the whole
 *   item (`ALL_NEW`), so a writer learns the back-off, the budget and the digests with its lease;
 * - `apply`: one `UpdateItem` per {@link StateChange} (counts, view, digests, pending marker, back-off,
 *   lease release), its parts' conditions joined; when an optional part's condition fails (a newer
 *   view, another container's record) the write is repeated without it. A change carrying journal
 *   entries is one `TransactWriteItems` instead: that update and a `Put` of each entry's item, so a
 *   write's release appends its entry in the same request. A write's entries stay in every repeat; an
 *   outside change's entry goes only with its observation.
 *
 * Journal items share the partition: `sk` = {@link journalSortKey}, `ttl` = the entry's time plus the
 * retention, `entry` = the validated {@link ChangeEntry}. Items are (un)marshalled with
 * `@aws-sdk/util-dynamodb` and validated by `state-item.ts` when read.
 *
 * @example
 * const store = createDynamoDbStateStore({ client, tableName });
 * const { state } = await store.load(Date.now());
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactionConflictException,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as v from 'valibot';
import { timeLimit } from '../app/deadline.ts';
import {
  type ChangeEntry,
  ChangeEntrySchema,
  DEFAULT_JOURNAL_RETENTION_DAYS,
  entryAtMs,
  journalExpirySeconds,
  journalSortKey,
} from '../domain/change-journal.ts';
import { LeaseLostError, type ParsedState, parseState, spentAttribute } from '../domain/state-item.ts';
import type { StateChange, StateStore } from '../ports.ts';

/** The state item's key. Other keys of the table's one partition are free for later items. */
export const STATE_KEY = { pk: 'affix-client', sk: 'state' } as const;
/** Bookkeeping must not hold an answer back for long. */
export const STATE_TIMEOUT_MS = 1_000;
/** How long DynamoDB keeps the item after its last write (the `ttl` attribute, epoch seconds). */
const ITEM_TTL_SECONDS = 7 * 24 * 3_600;

export interface DynamoDbStateOptions {
  client: DynamoDBClient;
  tableName: string;
  timeoutMs?: number;
  /** How long journal entries are kept (default {@link DEFAULT_JOURNAL_RETENTION_DAYS}). */
  journalRetentionDays?: number;
}

/** A journal entry's item: the entry validated, keyed by its time and request, expiring by TTL. */
export function journalItem(entry: ChangeEntry, retentionDays: number) {
  const valid = v.parse(ChangeEntrySchema, entry);
  const atMs = entryAtMs(valid);
  return {
    pk: STATE_KEY.pk,
    sk: journalSortKey(atMs, valid.request_id),
    ttl: journalExpirySeconds(atMs, retentionDays),
    entry: valid,
  };
}

/** How a write failed that may be repeated: a state condition, entries already there, a conflict. */
type Refusal =
  | { kind: 'state-condition' }
  | { kind: 'entries-present'; indexes: number[] }
  | { kind: 'conflict' };

/** The write's failure as a {@link Refusal}; `undefined` for any other failure. */
function refusalOf(error: unknown): Refusal | undefined {
  if (error instanceof ConditionalCheckFailedException) return { kind: 'state-condition' };
  if (error instanceof TransactionConflictException) return { kind: 'conflict' };
  if (!(error instanceof TransactionCanceledException)) return undefined;
  // One reason per item, in order: the state item's update first, then the journal items.
  const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code);
  if (codes[0] === 'ConditionalCheckFailed') return { kind: 'state-condition' };
  if (codes.includes('TransactionConflict')) return { kind: 'conflict' };
  const indexes = codes.flatMap((code, index) =>
    index > 0 && code === 'ConditionalCheckFailed' ? [index - 1] : [],
  );
  return indexes.length > 0 ? { kind: 'entries-present', indexes } : undefined;
}

/** Tries of one step when the only obstacle is another transaction or an entry already written. */
const STEP_TRIES = 3;

/** Attribute names and their expression aliases, kept across requests (the same dozen names each time). */
const ALIASES = new Map<string, string>();
const MAX_ALIASES = 256;

/** An update expression being built: clauses, names and values, conditions (required or optional). */
class Expression {
  readonly set: string[] = [];
  readonly add: string[] = [];
  readonly remove: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private counter = 0;

  name(attribute: string): string {
    let alias = ALIASES.get(attribute);
    if (alias === undefined) {
      alias = `#${attribute.replace(/[^A-Za-z0-9]/g, '_')}`;
      // The spent counts' names change with time: the map is emptied rather than left to grow.
      if (ALIASES.size >= MAX_ALIASES) ALIASES.clear();
      ALIASES.set(attribute, alias);
    }
    this.names[alias] = attribute;
    return alias;
  }

  value(value: unknown): string {
    this.counter += 1;
    const alias = `:v${this.counter}`;
    this.values[alias] = value;
    return alias;
  }

  text(): string {
    return [
      this.set.length > 0 ? `SET ${this.set.join(', ')}` : '',
      this.add.length > 0 ? `ADD ${this.add.join(', ')}` : '',
      this.remove.length > 0 ? `REMOVE ${this.remove.join(', ')}` : '',
    ]
      .filter((clause) => clause !== '')
      .join(' ');
  }
}

type Optional = 'view' | 'observe' | 'back-off';

/** The update of `change`, leaving out the optional parts in `without`. */
function updateOf(change: StateChange, nowMs: number, without: ReadonlySet<Optional>) {
  const e = new Expression();
  const conditions: string[] = [];
  e.set.push(`${e.name('ttl')} = ${e.value(Math.ceil(nowMs / 1_000) + ITEM_TTL_SECONDS)}`);
  // One clause per bucket: two clauses on one attribute are refused as overlapping paths.
  const perBucket = new Map<number, number>();
  for (const { bucket, count } of change.spend ?? [])
    perBucket.set(bucket, (perBucket.get(bucket) ?? 0) + count);
  const spentSet = new Set<string>();
  for (const [bucket, count] of perBucket) {
    const attribute = e.name(spentAttribute(bucket));
    spentSet.add(attribute);
    e.set.push(`${attribute} = if_not_exists(${attribute}, ${e.value(0)}) + ${e.value(count)}`);
  }
  for (const bucket of change.dropBuckets ?? []) {
    const attribute = e.name(spentAttribute(bucket));
    if (!spentSet.has(attribute)) e.remove.push(attribute);
  }
  if (change.view !== undefined && !without.has('view')) {
    const view = e.name('view');
    const readAt = e.value(change.view.readAtMs);
    e.set.push(`${view} = ${e.value(change.view)}`);
    conditions.push(`(attribute_not_exists(${view}) OR ${view}.${e.name('readAtMs')} < ${readAt})`);
  }
  const fields = () => e.name('fields');
  // Every record of the digests or of a write through the proxy (pending, cleared, written) moves
  // `version` once, so an observation conditional on the version a read loaded fails when any write
  // touched the item during that read.
  let movesVersion = false;
  if (change.observe !== undefined && change.written === undefined && !without.has('observe')) {
    e.set.push(`${fields()} = ${e.value(change.observe.fields)}`);
    movesVersion = true;
    conditions.push(
      change.observe.expectedVersion === undefined
        ? `attribute_not_exists(${fields()})`
        : `${e.name('version')} = ${e.value(change.observe.expectedVersion)}`,
    );
  }
  if (change.written !== undefined) {
    // A write's result replaces the digests; it never comes with an observation of its own.
    e.set.push(`${fields()} = ${e.value(change.written.fields)}`);
    movesVersion = true;
    e.set.push(`${e.name('changedAtMs')} = ${e.value(change.written.atMs)}`);
    if (change.written.replaced !== undefined) {
      e.set.push(`${e.name('replaced')} = ${e.value(change.written.replaced)}`);
    }
  }
  if (change.pending === 'clear' || (change.written !== undefined && change.pending === undefined)) {
    e.remove.push(e.name('pending'));
    movesVersion = true;
  } else if (change.pending !== undefined) {
    e.set.push(`${e.name('pending')} = ${e.value(change.pending)}`);
    movesVersion = true;
  }
  if (movesVersion) e.add.push(`${e.name('version')} ${e.value(1)}`);
  if (change.notBeforeMs !== undefined && !without.has('back-off')) {
    const notBefore = e.name('notBeforeMs');
    const value = e.value(change.notBeforeMs);
    e.set.push(`${notBefore} = ${value}`);
    // A value beyond the window (refused when read) may be replaced too.
    conditions.push(
      `(attribute_not_exists(${notBefore}) OR ${notBefore} < ${value} OR ${notBefore} > ${e.value(change.notBeforeCeilingMs ?? change.notBeforeMs)})`,
    );
  }
  if (change.lease !== undefined) {
    const owner = e.name('owner');
    conditions.push(
      `${owner} = ${e.value('require' in change.lease ? change.lease.require : change.lease.release)}`,
    );
    if ('release' in change.lease) e.remove.push(owner, e.name('expiresAtMs'));
  }
  return { e, condition: conditions.length > 0 ? conditions.join(' AND ') : undefined };
}

export function createDynamoDbStateStore(options: DynamoDbStateOptions): StateStore {
  const { client, tableName } = options;
  const Key = marshall(STATE_KEY);
  /** Sends one command within the state's time limit (and the caller's signal, if any). */
  const sendWithin = async <Output>(
    send: (abortSignal: AbortSignal) => Promise<Output>,
    signal?: AbortSignal,
  ) => {
    const limit = timeLimit(options.timeoutMs ?? STATE_TIMEOUT_MS, signal);
    try {
      return await send(limit.signal);
    } finally {
      limit.clear();
    }
  };
  const parsed = (item: Parameters<typeof unmarshall>[0] | undefined, nowMs: number): ParsedState =>
    // Numbers as plain numbers even when unsafe (1e100): validation refuses them, unmarshall must not throw.
    parseState(item === undefined ? undefined : unmarshall(item, { wrapNumbers: Number }), nowMs);

  const retentionDays = options.journalRetentionDays ?? DEFAULT_JOURNAL_RETENTION_DAYS;
  const journalPut = (entry: ChangeEntry) => ({
    TableName: tableName,
    Item: marshall(journalItem(entry, retentionDays), { removeUndefinedValues: true }),
    // The same entry twice (a repeat after a lost answer) is one item.
    ConditionExpression: 'attribute_not_exists(#sk)',
    ExpressionAttributeNames: { '#sk': 'sk' },
  });

  /** One request: the update alone, or with journal entries one transaction. */
  async function send(
    change: StateChange,
    nowMs: number,
    without: ReadonlySet<Optional>,
    journal: readonly ChangeEntry[],
  ) {
    const { e, condition } = updateOf(change, nowMs, without);
    const update: Update = {
      TableName: tableName,
      Key,
      UpdateExpression: e.text(),
      ...(condition === undefined ? {} : { ConditionExpression: condition }),
      ExpressionAttributeNames: e.names,
      ExpressionAttributeValues: marshall(e.values, { removeUndefinedValues: true }),
    };
    if (journal.length === 0) {
      await sendWithin((abortSignal) => client.send(new UpdateItemCommand(update), { abortSignal }));
      return;
    }
    await sendWithin((abortSignal) =>
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Update: update }, ...journal.map((entry) => ({ Put: journalPut(entry) }))],
        }),
        { abortSignal },
      ),
    );
  }

  /** A write's entries when its state update can no longer be made (the lease was lost). */
  async function appendAlone(journal: readonly ChangeEntry[]): Promise<void> {
    for (const entry of journal) {
      try {
        await sendWithin((abortSignal) =>
          client.send(new PutItemCommand(journalPut(entry)), { abortSignal }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  return {
    async load(nowMs, signal) {
      const read = await sendWithin(
        (abortSignal) =>
          client.send(new GetItemCommand({ TableName: tableName, Key, ConsistentRead: true }), {
            abortSignal,
          }),
        signal,
      );
      return parsed(read.Item, nowMs);
    },

    async acquire(owner, expiresAtMs, nowMs, signal) {
      try {
        const written = await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key,
            UpdateExpression: 'SET #owner = :owner, #expires = :expires, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#owner) OR #expires < :now',
            ExpressionAttributeNames: { '#owner': 'owner', '#expires': 'expiresAtMs', '#ttl': 'ttl' },
            ExpressionAttributeValues: marshall({
              ':owner': owner,
              ':expires': expiresAtMs,
              ':now': nowMs,
              ':ttl': Math.ceil(nowMs / 1_000) + ITEM_TTL_SECONDS,
            }),
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          { abortSignal: signal },
        );
        return { acquired: true, parsed: parsed(written.Attributes, nowMs) };
      } catch (error) {
        // Another request's transaction on the item (a release with its journal entry): held.
        if (error instanceof TransactionConflictException) return { acquired: false, holder: undefined };
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Engines that do not return the holder's item (dynalite) are asked once.
        const holder =
          error.Item !== undefined
            ? parsed(error.Item, nowMs)
            : parsed(
                (
                  await client.send(new GetItemCommand({ TableName: tableName, Key, ConsistentRead: true }), {
                    abortSignal: signal,
                  })
                ).Item,
                nowMs,
              );
        // An SDK retry of an update that had succeeded finds our own lease: it is ours.
        if (holder.state.lease?.owner === owner) return { acquired: true, parsed: holder };
        return { acquired: false, holder: holder.state.lease };
      }
    },

    async apply(change, nowMs) {
      // Optional parts are dropped in this order when a condition fails: the view (a newer one is
      // there), the back-off (a later one is there), then the digests (another container recorded).
      const present = new Set<Optional>([
        ...(change.view === undefined ? [] : (['view'] as const)),
        ...(change.notBeforeMs === undefined ? [] : (['back-off'] as const)),
        ...(change.observe === undefined || change.written !== undefined ? [] : (['observe'] as const)),
      ]);
      const steps: Optional[][] = [[]];
      if (present.has('view') || present.has('back-off')) steps.push(['view', 'back-off']);
      if (present.has('observe')) steps.push(['view', 'back-off', 'observe']);
      // A write's entries go with every step; an outside change's entry only with its observation.
      const written = change.journal ?? [];
      const outside = change.observe?.entry;
      for (const without of steps) {
        const observes = present.has('observe') && !without.includes('observe');
        let journal = outside !== undefined && observes ? [...written, outside] : [...written];
        for (let tries = 1; ; tries += 1) {
          try {
            await send(change, nowMs, new Set(without), journal);
            return { observed: observes };
          } catch (error) {
            const refusal = refusalOf(error);
            if (refusal === undefined || (refusal.kind !== 'state-condition' && tries >= STEP_TRIES))
              throw error;
            if (refusal.kind === 'state-condition') break;
            if (refusal.kind === 'entries-present') {
              journal = journal.filter((_, index) => !refusal.indexes.includes(index));
            }
          }
        }
      }
      if (change.lease !== undefined) {
        // The change was accepted at Affix: its entry is kept even though the lease is not.
        try {
          await appendAlone(written);
        } catch {
          throw new LeaseLostError(
            'the write lease is held by another writer; its journal entry was not written',
          );
        }
        throw new LeaseLostError('the write lease is held by another writer');
      }
      return { observed: false };
    },
  };
}
