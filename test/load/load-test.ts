/**
 * `npm run test:load`: a bounded load test on loopback. Starts the local stack (Affix sandbox, SSM
 * endpoint, local API with the real handler, all on 127.0.0.1), sends a fixed number of mixed
 * requests at a fixed concurrency, and prints throughput, latency percentiles, errors, SSM fetches
 * and RSS before and after. Exits non-zero when a request failed, when SSM was read other than once,
 * when a secret showed up in an answer or a log line, when RSS grew past the limit, or when the run
 * took longer than its time limit.
 *
 * Environment: LOAD_REQUESTS (default 2000), LOAD_CONCURRENCY (50), LOAD_TIME_LIMIT_MS (120000),
 * LOAD_MAX_RSS_GROWTH_MB (256), LOAD_MAX_HEAP_GROWTH_MB (16, heap used after a full GC: what is retained).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { parseIntegerVariable } from '../../local/env-integer.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { findLeaks } from '../support/leaks.ts';
import { signedFetch } from '../support/signed-fetch.ts';

function setting(name: string, fallback: number, min: number): number {
  return parseIntegerVariable(name, process.env[name], fallback, min, Number.MAX_SAFE_INTEGER);
}

const REQUESTS = setting('LOAD_REQUESTS', 2_000, 1);
const CONCURRENCY = setting('LOAD_CONCURRENCY', 50, 1);
const TIME_LIMIT_MS = setting('LOAD_TIME_LIMIT_MS', 120_000, 1_000);
const MAX_RSS_GROWTH_MB = setting('LOAD_MAX_RSS_GROWTH_MB', 256, 1);
const MAX_HEAP_GROWTH_MB = setting('LOAD_MAX_HEAP_GROWTH_MB', 16, 1);
const WARM_UP = 20;

const CURRENT = SANDBOX_DEFAULTS.clientSecret[0];
const EXTRA = 'load-test-extra-secret-0123456789';

type Route = 'GET /client' | 'PATCH /client' | 'PATCH /client If-Match: *' | 'PUT /client/secrets';

interface Planned {
  route: Route;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The i-th request of the mix: 60% reads, 25% webhook/name changes, 5% conditional, 10% rotations. */
function plan(i: number): Planned {
  const slot = i % 20;
  if (slot < 12) return { route: 'GET /client', method: 'GET', path: '/client' };
  if (slot < 17) {
    const body =
      slot % 2 === 0 ? { webhook_uri: `https://hooks.example.com/load-${i % 7}` } : { name: `Load ${i % 5}` };
    return { route: 'PATCH /client', method: 'PATCH', path: '/client', body };
  }
  if (slot < 18) {
    return {
      route: 'PATCH /client If-Match: *',
      method: 'PATCH',
      path: '/client',
      body: { redirect_uris: [`https://app.example.com/callback-${i % 3}`] },
      headers: { 'if-match': '*' },
    };
  }
  // Always keep the secret the proxy authenticates with (the lock-out guard would refuse otherwise).
  const list = slot % 2 === 0 ? [CURRENT, EXTRA] : [CURRENT];
  return {
    route: 'PUT /client/secrets',
    method: 'PUT',
    path: '/client/secrets',
    body: { client_secret: list },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

const mib = (bytes: number) => bytes / 1024 / 1024;

// A full collection before each measurement, so RSS and heap show what is retained, not garbage.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function memory(): { rss: number; heap: number } {
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heap: heapUsed };
}

/** Finds secrets in one text as it goes by, so nothing has to be kept (that would skew the RSS figure). */
const SECRETS = [CURRENT, EXTRA];
const leaksIn = (text: string) => findLeaks([text], SECRETS, SANDBOX_DEFAULTS.clientId).length;

/** Swallows the handler's log lines (Powertools JSON, EMF), counting them and checking each for secrets. */
function captureStdout() {
  const seen = { lines: 0, audits: 0, leaks: 0 };
  const original = process.stdout.write;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      seen.lines += 1;
      if (line.includes('"message":"audit"')) seen.audits += 1;
      seen.leaks += leaksIn(line);
    }
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  return {
    seen,
    restore: () => {
      process.stdout.write = original;
    },
  };
}

async function send(stack: LocalStack, planned: Planned, signal: AbortSignal) {
  const headers: Record<string, string> = { ...planned.headers };
  if (planned.body !== undefined) headers['content-type'] = 'application/json';
  const response = await signedFetch(`${stack.apiUrl}${planned.path}`, {
    method: planned.method,
    headers,
    body: planned.body === undefined ? undefined : JSON.stringify(planned.body),
    signal,
  });
  return { status: response.status, body: await response.text() };
}

async function main(): Promise<number> {
  const stack = await startLocalStack({ port: 0 });
  const stdout = captureStdout();
  const failures = new Map<string, number>();
  const fail = (reason: string) => failures.set(reason, (failures.get(reason) ?? 0) + 1);
  // 503 write-contention is the documented back-pressure of the write lock when 50 callers write at
  // once (a writer waits at most half its deadline): counted and reported, not an error.
  const contended = new Map<Route, number>();
  const latencies: number[] = [];
  const perRoute = new Map<Route, number[]>();
  let leaksInAnswers = 0;
  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(new Error('time limit')), TIME_LIMIT_MS);
  let before = { rss: 0, heap: 0 };
  let after = { rss: 0, heap: 0 };
  let elapsedMs = 0;
  try {
    for (let i = 0; i < WARM_UP; i += 1) {
      const warm = await send(stack, plan(0), limit.signal);
      if (warm.status !== 200) fail(`warm-up ${warm.status}`);
    }
    before = memory();
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      for (;;) {
        const i = next;
        next += 1;
        if (i >= REQUESTS || limit.signal.aborted) return;
        // The sandbox logs every request it gets; that log is test equipment, not the proxy's memory.
        if (i % 500 === 0) stack.sandbox?.resetRequests();
        const planned = plan(i);
        const sent = performance.now();
        try {
          const { status, body } = await send(stack, planned, limit.signal);
          const latency = performance.now() - sent;
          latencies.push(latency);
          perRoute.set(planned.route, [...(perRoute.get(planned.route) ?? []), latency]);
          if (status === 503 && body.includes('problem:write-contention')) {
            contended.set(planned.route, (contended.get(planned.route) ?? 0) + 1);
          } else if (status !== 200) fail(`${planned.route} -> ${status}`);
          leaksInAnswers += leaksIn(body);
        } catch (error) {
          fail(`${planned.route} -> ${error instanceof Error ? error.name : 'error'}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    elapsedMs = performance.now() - started;
    after = memory();
  } finally {
    clearTimeout(timer);
    stdout.restore();
    await stack.close();
  }

  const completed = latencies.length;
  if (completed + [...failures.values()].reduce((a, b) => a + b, 0) < REQUESTS)
    fail('not every request was sent');
  const sorted = [...latencies].sort((a, b) => a - b);
  const ssmFetches = stack.ssm.requestCount;
  // One credential load per container; the lock-out guard also reads SSM once per secrets PUT, so a
  // caller can never remove the secret SSM serves because this container's cache is older.
  // A PUT refused with write-contention never got the lease, so it never reached the guard.
  const guardReads =
    (perRoute.get('PUT /client/secrets')?.length ?? 0) - (contended.get('PUT /client/secrets') ?? 0);
  const contendedTotal = [...contended.values()].reduce((a, b) => a + b, 0);
  const expectedSsmFetches = 1 + guardReads;
  const leaks = leaksInAnswers + stdout.seen.leaks;
  const growthMb = mib(after.rss - before.rss);
  const heapGrowthMb = mib(after.heap - before.heap);
  const errors = [...failures.values()].reduce((a, b) => a + b, 0);
  const checks = {
    'errors = 0': errors === 0,
    [`SSM fetches = 1 + ${guardReads} guard reads`]: ssmFetches === expectedSsmFetches,
    'no secret in answers or logs': leaks === 0,
    [`heap growth < ${MAX_HEAP_GROWTH_MB} MiB`]: heapGrowthMb < MAX_HEAP_GROWTH_MB,
    [`RSS growth < ${MAX_RSS_GROWTH_MB} MiB`]: growthMb < MAX_RSS_GROWTH_MB,
  };
  const passed = Object.values(checks).every(Boolean);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const routes = [...perRoute].map(([route, values]) => {
    const byRoute = [...values].sort((a, b) => a - b);
    return `    ${route.padEnd(26)} ${String(values.length).padStart(6)}  p50 ${ms(percentile(byRoute, 50))}, p99 ${ms(percentile(byRoute, 99))}`;
  });
  const report = [
    'affix-webhook-config load test (loopback: local API -> real handler -> Affix sandbox, SSM endpoint)',
    `  node           ${process.version}`,
    `  requests       ${REQUESTS} at concurrency ${CONCURRENCY} (+${WARM_UP} warm-up), mixed routes:`,
    ...routes,
    `  duration       ${(elapsedMs / 1_000).toFixed(2)} s`,
    `  throughput     ${((completed / elapsedMs) * 1_000).toFixed(1)} requests/s`,
    `  latency        p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? Number.NaN)}`,
    `  errors         ${errors}${errors > 0 ? ` (${[...failures].map(([reason, n]) => `${reason}: ${n}`).join('; ')})` : ''}`,
    `  contention     ${contendedTotal} writes answered 503 write-contention (with Retry-After)${contendedTotal > 0 ? ` (${[...contended].map(([route, n]) => `${route}: ${n}`).join('; ')})` : ''}`,
    `  SSM fetches    ${ssmFetches} (1 credential load + ${guardReads} lock-out guard reads, one per PUT /client/secrets that got the lease)`,
    `  RSS            before ${mib(before.rss).toFixed(1)} MiB, after ${mib(after.rss).toFixed(1)} MiB (growth ${growthMb.toFixed(1)} MiB)`,
    `  heap used      ${mib(before.heap).toFixed(1)} MiB -> ${mib(after.heap).toFixed(1)} MiB after a full GC (growth ${heapGrowthMb.toFixed(1)} MiB)`,
    `  logs           ${stdout.seen.lines} lines (${stdout.seen.audits} audit lines), secrets found in answers or logs: ${leaks}`,
    `  checks         ${Object.entries(checks)
      .map(([name, ok]) => `${ok ? 'ok' : 'FAILED'}: ${name}`)
      .join('; ')}`,
    `  result         ${passed ? 'PASS' : 'FAIL'}`,
  ];
  process.stdout.write(`${report.join('\n')}\n`);
  return passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `load test failed to run: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
