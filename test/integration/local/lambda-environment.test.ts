/**
 * One local execution environment (`lambda-environment.mjs`) in a worker thread, spoken to as the pool
 * does (`lambda-protocol.ts`): it loads the handler module itself (TypeScript through tsx, plain
 * JavaScript without), says ready or why not, runs invocations with its own Lambda context, keeps its
 * module state between them, and reports a handler's error by name and message.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EnvironmentMessage, InvokeMessage } from '../../../local/lambda-protocol.ts';

const ENTRY = new URL('../../../local/lambda-environment.mjs', import.meta.url);
const COUNTER = new URL('../../local/fixtures/counter-handler.ts', import.meta.url).href;
const NO_HANDLER = new URL('../../local/fixtures/no-handler.ts', import.meta.url).href;

const scratch = mkdtempSync(join(tmpdir(), 'lambda-environment-'));
const workers: Worker[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** An environment for `handlerModule`, and the next message it sends. */
function environment(handlerModule: string) {
  const worker = new Worker(ENTRY, { workerData: { handlerModule } });
  workers.push(worker);
  const next = () =>
    new Promise<EnvironmentMessage>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  return { worker, next };
}

function invoke(query: Record<string, string> | null, requestId: string): InvokeMessage {
  return {
    type: 'invoke',
    event: { queryStringParameters: query } as APIGatewayProxyEvent,
    context: { requestId, timeoutMs: 15_000, functionName: 'local-test', memoryLimitInMB: 512 },
  };
}

describe('lambda-environment.mjs', () => {
  it('loads a TypeScript handler, is ready, and runs invocations with its own context and state', async () => {
    const { worker, next } = environment(COUNTER);
    expect(await next()).toEqual({ type: 'ready' });
    worker.postMessage(invoke(null, 'req-1'));
    const first = await next();
    expect(first.type).toBe('result');
    const body = JSON.parse((first as { result: { body: string } }).result.body);
    expect(body).toMatchObject({ counter: 1, requestId: 'req-1' });
    expect(body.remainingAtStart).toBeGreaterThan(0);
    expect(body.remainingAtStart).toBeLessThanOrEqual(15_000);
    worker.postMessage(invoke(null, 'req-2'));
    const second = await next();
    expect(JSON.parse((second as { result: { body: string } }).result.body)).toMatchObject({
      counter: 2,
      loadedAs: body.loadedAs,
      requestId: 'req-2',
    });
  });

  it("reports a handler's error by name and message, and keeps serving", async () => {
    const { worker, next } = environment(COUNTER);
    await next();
    worker.postMessage(invoke({ throw: '1' }, 'req-1'));
    expect(await next()).toEqual({ type: 'error', name: 'Error', message: 'the handler failed on purpose' });
    worker.postMessage(invoke(null, 'req-2'));
    expect((await next()).type).toBe('result');
  });

  it('reports an init error for a module without a handler, and one that fails to load', async () => {
    const missing = environment(NO_HANDLER);
    expect(await missing.next()).toEqual({
      type: 'init-error',
      message: `${NO_HANDLER} does not export a function named handler`,
    });
    const broken = join(scratch, 'broken.mjs');
    writeFileSync(broken, "throw new Error('cannot start');\n");
    const failing = environment(pathToFileURL(broken).href);
    expect(await failing.next()).toEqual({ type: 'init-error', message: 'cannot start' });
  });

  it('loads a plain JavaScript handler (a bundle) without tsx', async () => {
    // An enum is TypeScript that Node's own type stripping refuses and tsx compiles: importing one
    // tells whether tsx was registered in the environment.
    writeFileSync(join(scratch, 'with-enum.ts'), 'export enum Colour { Red }\n');
    const plain = join(scratch, 'plain.mjs');
    writeFileSync(
      plain,
      [
        'export async function handler(event, context) {',
        '  let tsx = true;',
        "  try { await import('./with-enum.ts'); } catch { tsx = false; }",
        '  return { statusCode: 200, body: JSON.stringify({ requestId: context.awsRequestId, tsx }) };',
        '}',
      ].join('\n'),
    );
    const { worker, next } = environment(pathToFileURL(plain).href);
    expect(await next()).toEqual({ type: 'ready' });
    worker.postMessage(invoke(null, 'req-plain'));
    expect(await next()).toEqual({
      type: 'result',
      result: { statusCode: 200, body: JSON.stringify({ requestId: 'req-plain', tsx: false }) },
    });
  });

  it('registers tsx for a TypeScript handler module', async () => {
    const typed = join(scratch, 'typed.ts');
    writeFileSync(
      typed,
      [
        "import { Colour } from './with-enum.ts';",
        'export async function handler(): Promise<{ statusCode: number; body: string }> {',
        '  return { statusCode: 200, body: String(Colour.Red) };',
        '}',
      ].join('\n'),
    );
    writeFileSync(join(scratch, 'with-enum.ts'), 'export enum Colour { Red }\n');
    const { worker, next } = environment(pathToFileURL(typed).href);
    expect(await next()).toEqual({ type: 'ready' });
    worker.postMessage(invoke(null, 'req-typed'));
    expect(await next()).toEqual({ type: 'result', result: { statusCode: 200, body: '0' } });
  });
});
