/**
 * One local Lambda execution environment (a worker thread started by `lambda-pool.ts`). It loads the
 * handler module itself, so configuration, clients and caches are its own, exactly as in a Lambda
 * container, then runs the invocations the pool sends, one at a time.
 *
 * Plain `.mjs` because a worker cannot start from TypeScript. A TypeScript handler module needs tsx,
 * registered in this thread first; a bundled one (the deployed artifact, see `handler-bundle.ts`) does
 * not, and then the environment starts without it (tsx's start-up is most of an environment's CPU).
 * The pool passes `contextModule`, a JavaScript build of `lambda-context.ts`, so an environment of a
 * bundled handler loads no TypeScript at all; started without it, the environment imports the
 * TypeScript (plain erasable TypeScript, which Node 22 loads itself).
 * Messages: see `lambda-protocol.ts`.
 */
import { enableCompileCache, flushCompileCache } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

// The pool's code cache (compiled code only, no module state): before any import, so they all use it.
if (workerData.compileCacheDir !== undefined) enableCompileCache(workerData.compileCacheDir);

if (/\.[cm]?tsx?([?#].*)?$/.test(String(workerData.handlerModule))) {
  const { register } = await import('tsx/esm/api');
  register();
}

const port = parentPort;
if (port === null) throw new Error('lambda-environment.mjs must run in a worker thread');

let handler;
let createLambdaContext;
try {
  ({ createLambdaContext } = await import(workerData.contextModule ?? './lambda-context.ts'));
  const mod = await import(workerData.handlerModule);
  handler = mod.handler;
  // Written now, not when this environment exits: the next one to start reads it.
  if (workerData.compileCacheDir !== undefined) flushCompileCache();
  if (typeof handler !== 'function') {
    throw new Error(`${workerData.handlerModule} does not export a function named handler`);
  }
} catch (error) {
  port.postMessage({ type: 'init-error', message: error instanceof Error ? error.message : String(error) });
  handler = undefined;
}

if (handler !== undefined) {
  let busy = false;
  port.on('message', async (message) => {
    if (message.type !== 'invoke') return;
    if (busy) throw new Error('an environment runs one invocation at a time');
    busy = true;
    // Built here, so getRemainingTimeInMillis() counts down in this environment's own clock.
    const context = createLambdaContext(message.context);
    try {
      const result = await handler(message.event, context);
      busy = false;
      port.postMessage({ type: 'result', result });
    } catch (error) {
      busy = false;
      const name = error instanceof Error ? error.name : 'Error';
      port.postMessage({
        type: 'error',
        name,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  });
  port.postMessage({ type: 'ready' });
}
