/**
 * Secondary adapter: reads the change journal from the state table. Journal items sit in the state
 * item's partition (`pk` = `affix-client`) under sort keys `change#<epoch ms>#<request id>`
 * (`change-journal.ts`), each holding its entry as a map in `entry`. One page is one consistent
 * `Query` in reverse sort order (newest first) with `begins_with(sk, 'change#')`, so the state item
 * and any other item of the partition are never read.
 *
 * Every item read is validated with `ChangeEntrySchema`: an item that does not validate is left out
 * of the page and logged by its sort key only (its content may be anything, a secret included).
 *
 * @example
 * const journal = createDynamoDbJournal({ client, tableName, logger });
 * const { entries, nextCursor } = await journal.list({ limit: 20 });
 */
import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as v from 'valibot';
import { type ChangeEntry, ChangeEntrySchema, JOURNAL_SORT_PREFIX } from '../domain/change-journal.ts';
import { decodeCursor, encodeCursor } from '../domain/journal-cursor.ts';
import { ProblemError } from '../domain/problems.ts';
import type { ChangeJournalReader, ChangePage } from '../ports.ts';
import { STATE_KEY, STATE_TIMEOUT_MS } from './dynamodb-state.ts';

/** Where the adapter reports an item it left out: its sort key, never its content. */
export interface JournalLogger {
  warn(message: string, attributes: Record<string, unknown>): void;
}

export interface DynamoDbJournalOptions {
  client: DynamoDBClient;
  tableName: string;
  logger: JournalLogger;
  timeoutMs?: number;
}

/** What a journal item must be, around its entry: our partition, a journal sort key. */
const JournalItemSchema = v.object({
  pk: v.literal(STATE_KEY.pk),
  sk: v.pipe(v.string(), v.startsWith(JOURNAL_SORT_PREFIX)),
  entry: ChangeEntrySchema,
});

type RawItem = Record<string, AttributeValue>;

function sortKeyOf(item: RawItem): string {
  const sk = item.sk?.S;
  return typeof sk === 'string' ? sk : '(none)';
}

export function createDynamoDbJournal(options: DynamoDbJournalOptions): ChangeJournalReader {
  const { client, tableName, logger } = options;

  /** The entry of an item, or undefined (logged) when the item does not validate. */
  function entryOf(item: RawItem): ChangeEntry | undefined {
    let value: unknown;
    try {
      // Numbers as plain numbers even when unsafe: validation refuses them, unmarshall must not throw.
      value = unmarshall(item, { wrapNumbers: Number });
    } catch {
      value = undefined;
    }
    const parsed = v.safeParse(JournalItemSchema, value);
    if (parsed.success) return parsed.output.entry;
    logger.warn('journal item refused', { journal: { refused: sortKeyOf(item) } });
    return undefined;
  }

  return {
    async list({ limit, cursor }, signal) {
      let startKey: RawItem | undefined;
      if (cursor !== undefined) {
        const decoded = decodeCursor(cursor);
        if (!decoded.ok) {
          throw new ProblemError(
            'invalid-cursor',
            `The cursor was not issued by this API: ${decoded.reason}. Start again without a cursor.`,
          );
        }
        // Our partition, whatever the cursor says: it carries the sort key only.
        startKey = marshall({ pk: STATE_KEY.pk, sk: decoded.sortKey });
      }
      const timeout = AbortSignal.timeout(options.timeoutMs ?? STATE_TIMEOUT_MS);
      // One more than a page: when it comes back, there is a next page and its cursor is this page's last key.
      const read = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: marshall({ ':pk': STATE_KEY.pk, ':prefix': JOURNAL_SORT_PREFIX }),
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: limit + 1,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
        { abortSignal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]) },
      );
      const items = read.Items ?? [];
      const pageItems = items.slice(0, limit);
      const entries = pageItems.flatMap((item) => entryOf(item) ?? []);
      const last = pageItems.at(-1);
      // A full page with more behind it, or a page DynamoDB cut short (its 1 MB limit).
      const more = items.length > limit || (read.LastEvaluatedKey !== undefined && last !== undefined);
      const page: ChangePage = { entries };
      if (more && last !== undefined) page.nextCursor = encodeCursor(sortKeyOf(last));
      return page;
    },
  };
}
