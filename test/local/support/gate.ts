/**
 * A loopback gate for handlers running in pool environments (worker threads the test cannot reach):
 * a handler fetches `gate.url(name)` and is held there until the test calls `release(name)`. Tests
 * thereby decide when an invocation ends, instead of sleeping and hoping. `dropped(name)` resolves
 * when the held connection closes unanswered, i.e. the environment holding it was terminated;
 * `hits(name)` counts the fetches of a name (a handler's later side effect, for instance).
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Gate {
  url(name: string): string;
  /** Resolves once `count` fetches of `name` are being held. */
  held(name: string, count?: number): Promise<void>;
  release(name: string): void;
  dropped(name: string): Promise<void>;
  hits(name: string): number;
  close(): Promise<void>;
}

export async function startGate(): Promise<Gate> {
  const waiting = new Map<string, ServerResponse[]>();
  const hits = new Map<string, number>();
  const watchers = new Set<() => void>();
  const drops = new Map<string, () => void>();
  const dropPromises = new Map<string, Promise<void>>();
  const notify = (): void => {
    for (const watcher of watchers) watcher();
  };
  const dropPromise = (name: string): Promise<void> => {
    let promise = dropPromises.get(name);
    if (!promise) {
      promise = new Promise<void>((resolve) => drops.set(name, resolve));
      dropPromises.set(name, promise);
    }
    return promise;
  };
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    hits.set(name, (hits.get(name) ?? 0) + 1);
    const list = waiting.get(name) ?? [];
    list.push(res);
    waiting.set(name, list);
    res.on('close', () => {
      if (!res.writableEnded) {
        void dropPromise(name);
        drops.get(name)?.();
      }
    });
    notify();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (name) => `${base}/${encodeURIComponent(name)}`,
    held: (name, count = 1) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if ((waiting.get(name)?.length ?? 0) >= count) {
            watchers.delete(check);
            resolve();
          }
        };
        watchers.add(check);
        check();
      }),
    release(name) {
      for (const res of waiting.get(name) ?? []) if (!res.destroyed) res.end('released');
      waiting.delete(name);
    },
    dropped: dropPromise,
    hits: (name) => hits.get(name) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
