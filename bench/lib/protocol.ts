/**
 * Messages between the benchmark (parent) and the child process that runs the bundled handler.
 * The parent sends one command at a time and waits for its reply, so it can read the SSM and Affix
 * stand-ins' request counts between commands without racing the child.
 */

/**
 * `PATCH` toggles the name between two values by invocation number (read + write when it alternates);
 * `PATCH-noop` sets the name it already has; `PATCH-new` sets a name never set before (always read +
 * write, wherever it falls in a mix).
 */
export type InvokeRoute = 'GET' | 'PATCH' | 'PATCH-noop' | 'PATCH-new';
/** Routes whose warm overhead is measured against the direct-fetch floor. */
export type OverheadRoute = 'GET' | 'PATCH';
/**
 * Which loaded bundle a command drives: the function as deployed, or the bench-only entry that is
 * the same wiring with a no-op write lock (`bench/fixtures/no-lock-handler.ts`).
 */
export type HandlerSlot = 'deployed' | 'withoutLock';

export type Command =
  | { id: number; op: 'load'; module: string; slot?: HandlerSlot }
  | { id: number; op: 'invoke'; routes: InvokeRoute[]; count: number; parallel: boolean }
  | { id: number; op: 'overhead'; route: OverheadRoute; warmup: number; iterations: number; budgetMs: number }
  /** Changing PATCHes with the lease, without it, and the direct-fetch floor, interleaved in triplets. */
  | { id: number; op: 'lockCost'; warmup: number; iterations: number; budgetMs: number }
  /** Cache-hit GETs paired with the bare DynamoDB read of the cache item they are answered from. */
  | { id: number; op: 'cacheHit'; warmup: number; iterations: number; budgetMs: number }
  /** Deletes the read-cache item, so the next GET starts a cache window (as after a cold table). */
  | { id: number; op: 'dropCache' }
  | { id: number; op: 'memory' };

export type CommandOp = Command['op'];

/** How many handler answers had each status code, e.g. `{ "200": 1000 }`. */
export type StatusCounts = Record<string, number>;

export interface MemorySnapshot {
  /** As the process stands, before any forced collection. */
  rssBytes: number;
  heapUsedBytes: number;
  /** After forced full collections a few timer ticks apart (`--expose-gc`): what is still referenced. */
  heapUsedAfterGcBytes: number;
  heapTotalAfterGcBytes: number;
  externalAfterGcBytes: number;
  rssAfterGcBytes: number;
  /** Used bytes per V8 heap space after the collections (code, old, trusted, …), to tell JIT from data. */
  heapSpacesAfterGcBytes: Record<string, number>;
}

export type Reply =
  | { id: number; op: 'load'; importMs: number }
  | { id: number; op: 'invoke'; statuses: StatusCounts; elapsedMs: number }
  | {
      id: number;
      op: 'overhead';
      /** One latency per measured iteration, in order. */
      handlerMs: number[];
      floorMs: number[];
      statuses: StatusCounts;
      floorStatuses: StatusCounts;
    }
  | {
      id: number;
      op: 'lockCost';
      /** One latency per measured triplet, in order, for each of the three. */
      lockedMs: number[];
      unlockedMs: number[];
      floorMs: number[];
      statuses: StatusCounts;
      unlockedStatuses: StatusCounts;
      floorStatuses: StatusCounts;
    }
  | {
      id: number;
      op: 'cacheHit';
      /** GET from the shared cache; the floor is a `GetItem` of the cache item (`ConsistentRead`, as the adapter). */
      handlerMs: number[];
      floorMs: number[];
      statuses: StatusCounts;
      /** `200` per floor read that found the item, `404` per one that did not. */
      floorStatuses: StatusCounts;
    }
  | { id: number; op: 'dropCache' }
  | ({ id: number; op: 'memory' } & MemorySnapshot)
  | { id: number; op: 'error'; message: string };

export type ReplyTo<Op extends CommandOp> = Extract<Reply, { op: Op }>;

/** Commands without their id, as the parent writes them. */
export type CommandBody = Command extends infer C ? (C extends Command ? Omit<C, 'id'> : never) : never;
