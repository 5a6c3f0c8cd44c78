/**
 * Setup file of every vitest project: what a test worker writes straight to its stdout or stderr
 * (Powertools' Logger and Metrics write JSON and EMF lines there, and so do the pool's environments,
 * whose output Node pipes into this process's streams) goes through `console` instead. Vitest ties
 * console output to the running test, and with `silent: 'passed-only'` shows it for failed tests
 * only, so a green run prints results, and a red one still prints every line its failing test wrote.
 *
 * `captureOutput()` (capture.ts) replaces these writers while it captures and calls them when asked to
 * pass lines through, so suites that read log lines see exactly what they saw before.
 */

/** A worker stream's `write`, forwarding to `forward` (console.log or console.error) without adding a newline. */
function routedWrite(forward: (text: string) => void): typeof process.stdout.write {
  return function write(chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    // console adds the line break a log line already ends with.
    forward(text.endsWith('\n') ? text.slice(0, -1) : text);
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  } as typeof process.stdout.write;
}

// Vitest's console in a worker reports over its own channel, never through process.stdout: no loop.
const log = globalThis.console.log.bind(globalThis.console);
const error = globalThis.console.error.bind(globalThis.console);
process.stdout.write = routedWrite((text) => log(text));
process.stderr.write = routedWrite((text) => error(text));
