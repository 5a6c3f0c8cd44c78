/**
 * What every local stand-in server shares (`ServerLifecycle`), on real sockets: it listens on
 * 127.0.0.1 only, survives a client that sends garbage, and its `close()` returns even while a client
 * is stuck mid-request, cancelling its timers and ending its sleeps.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerLifecycle } from '../../../local/loopback-server.ts';

const servers: { lifecycle: ServerLifecycle; server: Server }[] = [];

afterEach(async () => {
  for (const { lifecycle, server } of servers.splice(0)) await lifecycle.close(server);
});

async function started(handler: Parameters<typeof createServer>[1]) {
  const lifecycle = new ServerLifecycle();
  const server = createServer(handler);
  const address = await lifecycle.listen(server);
  servers.push({ lifecycle, server });
  return { lifecycle, server, ...address };
}

/** Opens a raw connection and writes `text`; resolves once connected. */
function rawClient(port: number, text: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(text);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

describe('ServerLifecycle', () => {
  it('listens on 127.0.0.1 on an ephemeral port and says where', async () => {
    const { server, url, port } = await started((_req, res) => res.end('ok'));
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(port).toBeGreaterThan(0);
    expect(server.address()).toMatchObject({ address: '127.0.0.1', port });
    expect(await (await fetch(url)).text()).toBe('ok');
  });

  it('keeps serving after a client sends something that is not HTTP', async () => {
    const { url, port } = await started((_req, res) => res.end('still here'));
    const garbage = await rawClient(port, 'NOT HTTP AT ALL\r\n\r\n');
    await new Promise<void>((resolve) => garbage.once('close', () => resolve()));
    expect(await (await fetch(url)).text()).toBe('still here');
  });

  it('refuses a port that is taken, naming the error', async () => {
    const { port } = await started((_req, res) => res.end());
    const second = new ServerLifecycle();
    await expect(second.listen(createServer(), port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('closes while a client is stuck mid-request, destroying its socket', async () => {
    let reachedHandler = false;
    const lifecycle = new ServerLifecycle();
    const server = createServer((req) => {
      reachedHandler = true;
      req.resume(); // waits for a body that never ends
    });
    const { port } = await lifecycle.listen(server);
    const stuck = await rawClient(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf');
    const closed = new Promise<void>((resolve) => stuck.once('close', () => resolve()));
    await vi.waitFor(() => expect(reachedHandler).toBe(true));
    await lifecycle.close(server);
    await closed;
    expect(stuck.destroyed).toBe(true);
    expect(server.listening).toBe(false);
  });

  it('cancels its timers at close, and a sleep asked for afterwards returns at once', async () => {
    const lifecycle = new ServerLifecycle();
    const server = createServer();
    await lifecycle.listen(server);
    const fired = vi.fn();
    lifecycle.setTimer(fired, 1);
    await lifecycle.close(server);
    // A later deadline: Node runs timers in deadline order, so the 1 ms one would have run first.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).not.toHaveBeenCalled();
    await expect(lifecycle.sleep(60_000)).resolves.toBeUndefined();
  });

  it('ends a sleep still running when it closes', async () => {
    const lifecycle = new ServerLifecycle();
    const server = createServer();
    await lifecycle.listen(server);
    const sleeping = lifecycle.sleep(600_000);
    await lifecycle.close(server);
    await expect(sleeping).resolves.toBeUndefined();
  });

  it('runs a timer once and forgets it; clearTimer cancels one, and accepts undefined', async () => {
    vi.useFakeTimers();
    try {
      const lifecycle = new ServerLifecycle();
      const kept = vi.fn();
      const cleared = vi.fn();
      lifecycle.setTimer(kept, 100);
      lifecycle.clearTimer(lifecycle.setTimer(cleared, 100));
      lifecycle.clearTimer(undefined);
      await vi.advanceTimersByTimeAsync(100);
      expect(kept).toHaveBeenCalledTimes(1);
      expect(cleared).not.toHaveBeenCalled();
      const sleep = lifecycle.sleep(50);
      await vi.advanceTimersByTimeAsync(50);
      await expect(sleep).resolves.toBeUndefined();
      await expect(lifecycle.sleep(0)).resolves.toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
