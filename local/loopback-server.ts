/**
 * What every local stand-in server shares: listening on 127.0.0.1 only, tracking its sockets and
 * timers, and a `close()` that never hangs, even with clients stuck mid-request (fault injection
 * leaves such sockets on purpose).
 */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export class ServerLifecycle {
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The resolvers of sleeps still running: `close()` ends them with their timers. */
  private readonly sleepers = new Set<() => void>();
  private closing = false;

  /** A timer that `close()` cancels. */
  setTimer(callback: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  clearTimer(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Waits `ms`, or not at all once the server is closing; a sleep still running at `close()` ends then. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0 || this.closing) {
        resolve();
        return;
      }
      this.sleepers.add(resolve);
      this.setTimer(() => {
        this.sleepers.delete(resolve);
        resolve();
      }, ms);
    });
  }

  /** Tracks the server's sockets and listens on 127.0.0.1 (`port` 0: an ephemeral port). */
  async listen(server: Server, port = 0): Promise<{ url: string; port: number }> {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // A client that aborts mid-request must not crash the server.
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = (server.address() as AddressInfo).port;
    return { url: `http://127.0.0.1:${bound}`, port: bound };
  }

  close(server: Server): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      server.closeAllConnections();
    });
  }
}
