/**
 * `npm run test:load`: a bounded load test on loopback. Starts the local stack (Affix sandbox with
 * Affix's documented rate limits on, SSM endpoint, DynamoDB engine, local API with the real handler,
 * all on 127.0.0.1), sends a fixed number of requests at a fixed concurrency and pace, and prints
 * throughput, latency percentiles, errors, Affix requests per 1,000 proxy requests (by method, from
 * the sandbox's stats), SSM fetches and memory before and after.
 *
 * Mixes (`LOAD_MIX`):
 * - `realistic` (default): per 1,000 requests 970 `GET /client`, 5 changing `PATCH /client` (each a
 *   new `webhook_uri` or `name`, so 2 Affix requests each) and 25 `POST /webhooks/verify` (validly
 *   signed), paced at `LOAD_RATE` requests/s so the run spans more than one read-cache window. The
 *   sandbox enforces Affix's limits (40/min per IP, 40/5 min per client_id); the defaults spend about
 *   25 of the 40. Exits non-zero when a request failed, the sandbox rate-limited anything, Affix
 *   requests exceeded the budget's target (reads: one per cache window per environment, plus the
 *   webhook secrets' read; writes: 2 per changing PATCH), SSM was read other than once, a secret showed
 *   up in an answer or log line, RSS or heap grew past the limit, or the run took past its time limit.
 * - `stress`: the write-heavy mix (60% reads, 25% changes, 5% `If-Match: *`, 10% secret rotations),
 *   unpaced. Far beyond Affix's real limits, so it runs with the sandbox's rate limiter **off**; it
 *   checks errors, SSM reads, leaks and memory, and reports the write lease's back-pressure.
 *
 * The handler runs in this process (one execution environment shared by all concurrent requests), so
 * RSS and heap are the handler's.
 *
 * Environment: LOAD_MIX (realistic), LOAD_REQUESTS (2000), LOAD_CONCURRENCY (50), LOAD_RATE (50
 * requests/s, realistic mix only; 0 = as fast as possible), LOAD_TIME_LIMIT_MS (120000),
 * LOAD_MAX_RSS_GROWTH_MB (256), LOAD_MAX_HEAP_GROWTH_MB (16, heap used after a full GC: what is retained).
 */
import { createHmac } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SIGNATURE_HEADER } from '../../functions/contract/headers.ts';
import { routeOf } from '../../functions/contract/routes.ts';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { parseIntegerVariable } from '../../local/env-integer.ts';
import { LOCAL_IDENTITIES, type LocalSigner } from '../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { findLeaks } from '../support/leaks.ts';
import { signedFetch } from '../support/signed-fetch.ts';

function setting(name: string, fallback: number, min: number): number {
  return parseIntegerVariable(name, process.env[name], fallback, min, Number.MAX_SAFE_INTEGER);
}

const MIXES = ['realistic', 'stress'] as const;
type Mix = (typeof MIXES)[number];
const MIX_SETTING = process.env.LOAD_MIX ?? 'realistic';
if (!(MIXES as readonly string[]).includes(MIX_SETTING)) {
  throw new Error(`LOAD_MIX must be one of ${MIXES.join(', ')}, not ${JSON.stringify(MIX_SETTING)}`);
}
const MIX = MIX_SETTING as Mix;
const REQUESTS = setting('LOAD_REQUESTS', 2_000, 1);
const CONCURRENCY = setting('LOAD_CONCURRENCY', 50, 1);
const RATE = MIX === 'realistic' ? setting('LOAD_RATE', 50, 0) : 0;
const TIME_LIMIT_MS = setting('LOAD_TIME_LIMIT_MS', 120_000, 1_000);
const MAX_RSS_GROWTH_MB = setting('LOAD_MAX_RSS_GROWTH_MB', 256, 1);
const MAX_HEAP_GROWTH_MB = setting('LOAD_MAX_HEAP_GROWTH_MB', 16, 1);
const WARM_UP = 20;
/** Affix's per-client_id budget (40 per 5 minutes): what the realistic mix must stay within. */
const AFFIX_BUDGET = 40;

const CURRENT = SANDBOX_DEFAULTS.clientSecret[0];
const EXTRA = 'load-test-extra-secret-0123456789';

const GET_CLIENT = routeOf('getClient');
const UPDATE_CLIENT = routeOf('updateClient');
const REPLACE_SECRETS = routeOf('replaceSecrets');
const VERIFY_WEBHOOK = routeOf('verifyWebhook');

type Route =
  | 'GET /client'
  | 'PATCH /client'
  | 'PATCH /client If-Match: *'
  | 'PUT /client/secrets'
  | 'POST /webhooks/verify';

interface Planned {
  route: Route;
  method: string;
  path: string;
  signer: LocalSigner;
  body?: unknown;
  headers?: Record<string, string>;
}

const read = (): Planned => ({
  route: 'GET /client',
  method: GET_CLIENT.method,
  path: GET_CLIENT.path,
  signer: LOCAL_IDENTITIES.readers,
});

/** A PATCH that changes something: request i's value is its own (a GET and a POST at Affix). */
const change = (i: number): Planned => ({
  route: 'PATCH /client',
  method: UPDATE_CLIENT.method,
  path: UPDATE_CLIENT.path,
  signer: LOCAL_IDENTITIES.writers,
  body: i % 2 === 0 ? { webhook_uri: `https://hooks.example.com/load-${i}` } : { name: `Load ${i}` },
});

const DELIVERY = JSON.stringify({ added: [], removed: [], updated: [{ id: 'load-employee' }] });
const verify = (): Planned => ({
  route: 'POST /webhooks/verify',
  method: VERIFY_WEBHOOK.method,
  path: VERIFY_WEBHOOK.path,
  signer: LOCAL_IDENTITIES.verifiers,
  body: DELIVERY,
  headers: { [SIGNATURE_HEADER]: createHmac('sha256', CURRENT).update(DELIVERY).digest('hex') },
});

/** Realistic: of every 1,000 requests, 5 changing PATCHes (slots 100, 300, ...), 25 verifications, 970 reads. */
function realisticPlan(i: number): Planned {
  const slot = i % 1_000;
  if (slot % 200 === 100) return change(i);
  if (slot % 40 === 20) return verify();
  return read();
}

/** Stress: 60% reads, 25% webhook/name changes, 5% conditional, 10% rotations (limiter off). */
function stressPlan(i: number): Planned {
  const slot = i % 20;
  if (slot < 12) return read();
  if (slot < 17) {
    const body =
      slot % 2 === 0 ? { webhook_uri: `https://hooks.example.com/load-${i % 7}` } : { name: `Load ${i % 5}` };
    return { ...change(i), body };
  }
  if (slot < 18) {
    return {
      ...change(i),
      route: 'PATCH /client If-Match: *',
      body: { redirect_uris: [`https://app.example.com/callback-${i % 3}`] },
      headers: { 'if-match': '*' },
    };
  }
  // Always keep the secret the proxy authenticates with (the lock-out guard would refuse otherwise).
  const list = slot % 2 === 0 ? [CURRENT, EXTRA] : [CURRENT];
  return {
    route: 'PUT /client/secrets',
    method: REPLACE_SECRETS.method,
    path: REPLACE_SECRETS.path,
    signer: LOCAL_IDENTITIES.rotators,
    body: { client_secret: list },
  };
}

const plan = MIX === 'realistic' ? realisticPlan : stressPlan;

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

/**
 * Swallows the handler's log lines (Powertools JSON on stdout, warnings and errors on stderr, EMF),
 * counting them and checking each for secrets.
 */
function captureLogs() {
  const seen = { lines: 0, audits: 0, leaks: 0 };
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
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
    }) as typeof stream.write;
  }
  return {
    seen,
    restore: () => {
      streams.forEach((stream, index) => {
        stream.write = originals[index] as typeof stream.write;
      });
    },
  };
}

async function send(stack: LocalStack, planned: Planned, signal: AbortSignal) {
  const headers: Record<string, string> = { ...planned.headers };
  if (planned.body !== undefined) headers['content-type'] = 'application/json';
  const body =
    planned.body === undefined || typeof planned.body === 'string'
      ? planned.body
      : JSON.stringify(planned.body);
  const response = await signedFetch(
    `${stack.apiUrl}${planned.path}`,
    { method: planned.method, headers, body, signal },
    planned.signer,
  );
  return {
    status: response.status,
    body: await response.text(),
    cacheControl: response.headers.get('cache-control'),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The cache window a GET answer states (`Cache-Control: private, max-age=30`), or undefined. */
function maxAgeOf(cacheControl: string | null): number | undefined {
  const match = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

async function main(): Promise<number> {
  // The realistic mix runs against Affix's documented limits; the stress mix could never fit them.
  const rateLimits = MIX === 'realistic';
  const stack = await startLocalStack({ port: 0, sandboxRateLimits: rateLimits });
  const sandbox = stack.sandbox;
  if (sandbox === undefined) throw new Error('the load test needs the Affix sandbox (no AFFIX_BASE_URL)');
  const stdout = captureLogs();
  const failures = new Map<string, number>();
  const fail = (reason: string) => failures.set(reason, (failures.get(reason) ?? 0) + 1);
  // 503 write-contention is the documented back-pressure of the write lock when many callers write at
  // once (a writer waits at most half its deadline): counted and reported, not an error.
  const contended = new Map<Route, number>();
  const latencies: number[] = [];
  const perRoute = new Map<Route, number[]>();
  let leaksInAnswers = 0;
  let cacheWindowSeconds: number | undefined;
  const limit = new AbortController();
  // Each request gets a signal of its own for the time left: fetch keeps a listener on the signal it is
  // given for as long as that signal lives, so one shared signal would collect thousands.
  const deadline = Date.now() + TIME_LIMIT_MS;
  const timeLeft = () => AbortSignal.timeout(Math.max(1, deadline - Date.now()));
  const timer = setTimeout(() => limit.abort(new Error('time limit')), TIME_LIMIT_MS);
  let before = { rss: 0, heap: 0 };
  let after = { rss: 0, heap: 0 };
  let elapsedMs = 0;
  let affix = sandbox.stats;
  try {
    for (let i = 0; i < WARM_UP; i += 1) {
      const warm = await send(stack, read(), timeLeft());
      if (warm.status !== 200) fail(`warm-up ${warm.status}`);
      cacheWindowSeconds ??= maxAgeOf(warm.cacheControl);
    }
    before = memory();
    // Counted from here: the warm-up's one Affix GET still counts in the limiter's windows.
    sandbox.resetStats();
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      for (;;) {
        const i = next;
        next += 1;
        if (i >= REQUESTS || limit.signal.aborted) return;
        if (RATE > 0) {
          const due = started + (i * 1_000) / RATE;
          const wait = due - performance.now();
          if (wait > 0) await sleep(wait);
        }
        // The sandbox logs every request it gets; that log is test equipment, not the proxy's memory.
        if (i % 500 === 0) sandbox.resetRequests();
        const planned = plan(i);
        const sent = performance.now();
        try {
          const { status, body } = await send(stack, planned, timeLeft());
          const latency = performance.now() - sent;
          latencies.push(latency);
          const values = perRoute.get(planned.route) ?? [];
          values.push(latency);
          perRoute.set(planned.route, values);
          if (status === 503 && body.includes('problem:write-contention')) {
            contended.set(planned.route, (contended.get(planned.route) ?? 0) + 1);
          } else if (status !== 200) fail(`${planned.route} -> ${status}`);
          else if (planned.route === 'POST /webhooks/verify' && !body.includes('"valid":true'))
            fail(`${planned.route} -> not valid`);
          leaksInAnswers += leaksIn(body);
        } catch (error) {
          fail(`${planned.route} -> ${error instanceof Error ? error.name : 'error'}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    elapsedMs = performance.now() - started;
    affix = sandbox.stats;
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
  const countOf = (route: Route) => (perRoute.get(route)?.length ?? 0) - (contended.get(route) ?? 0);
  // One credential load per container; the lock-out guard also reads SSM once per secrets PUT, so a
  // caller can never remove the secret SSM serves because this container's cache is older.
  // A PUT refused with write-contention never got the lease, so it never reached the guard.
  const guardReads = countOf('PUT /client/secrets');
  const contendedTotal = [...contended.values()].reduce((a, b) => a + b, 0);
  const expectedSsmFetches = 1 + guardReads;
  const leaks = leaksInAnswers + stdout.seen.leaks;
  const growthMb = mib(after.rss - before.rss);
  const heapGrowthMb = mib(after.heap - before.heap);
  const errors = [...failures.values()].reduce((a, b) => a + b, 0);

  // Affix requests: every changing write is a GET and a POST; what is left of the GETs is the reads'
  // (GET /client cache misses, the webhook verifier's secret list).
  const affixTotal = affix.requests.GET + affix.requests.POST;
  const perThousand = (n: number) => (completed === 0 ? Number.NaN : (n * 1_000) / completed);
  const writes = countOf('PATCH /client') + countOf('PATCH /client If-Match: *') + guardReads;
  const writeRequests = 2 * writes;
  const readRequests = affixTotal - writeRequests;
  const window = cacheWindowSeconds ?? 0;
  // Cache misses are at least one window apart, so a run of d seconds has at most floor(d / window) + 1
  // (the warm-up's, before the counting began, not among them); the verifier's secret list is read at
  // most once per WEBHOOK_SECRETS_MAX_AGE_SECONDS (60 s). One environment.
  const windows = window > 0 ? Math.floor(elapsedMs / 1_000 / window) + 1 : completed;
  const verifierReads = countOf('POST /webhooks/verify') > 0 ? Math.ceil(elapsedMs / 60_000) : 0;
  const readTarget = windows + verifierReads;
  const checks: Record<string, boolean> = {
    'errors = 0': errors === 0,
    ...(rateLimits
      ? {
          'rate-limited by the sandbox = 0': affix.rateLimited === 0,
          [`Affix requests <= ${AFFIX_BUDGET} (the budget per 5 min)`]: affixTotal <= AFFIX_BUDGET,
          [`Affix POSTs = ${writes} changing writes`]: affix.requests.POST === writes,
          [`Affix reads <= ${readTarget} (${windows} cache windows + ${verifierReads} verifier list reads)`]:
            readRequests <= readTarget,
        }
      : {}),
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
  const fixed = (n: number) => n.toFixed(1);
  const report = [
    'affix-webhook-config load test (loopback: local API -> real handler -> Affix sandbox, SSM endpoint, DynamoDB engine)',
    `  node           ${process.version}`,
    `  mix            ${MIX}: ${REQUESTS} requests at concurrency ${CONCURRENCY}${RATE > 0 ? `, paced at ${RATE}/s` : ', unpaced'} (+${WARM_UP} warm-up GETs)`,
    ...routes,
    `  Affix limits   ${rateLimits ? "on (Affix's documented numbers: 40/min per IP, 40/5 min per client_id)" : 'OFF (this mix is far beyond Affix limits: it measures the proxy, not the budget)'}; read cache ${window > 0 ? `${window} s` : 'off'}`,
    `  duration       ${(elapsedMs / 1_000).toFixed(2)} s`,
    `  throughput     ${((completed / elapsedMs) * 1_000).toFixed(1)} requests/s`,
    `  latency        p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? Number.NaN)}`,
    `  errors         ${errors}${errors > 0 ? ` (${[...failures].map(([reason, n]) => `${reason}: ${n}`).join('; ')})` : ''}`,
    `  Affix          ${affixTotal} requests (GET ${affix.requests.GET}, POST ${affix.requests.POST}), rate-limited ${affix.rateLimited}`,
    `  per 1,000      ${fixed(perThousand(affixTotal))} Affix requests per 1,000 proxy requests (GET ${fixed(perThousand(affix.requests.GET))}, POST ${fixed(perThousand(affix.requests.POST))})${rateLimits ? `; reads ${readRequests} (target <= ${readTarget}), writes ${writeRequests} (2 x ${writes} changing writes)` : ''}`,
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
