/**
 * Captures everything written to stdout and stderr (Powertools' logs and EMF metrics go there), so a
 * test can read the log lines and prove no secret is in them.
 */
import { afterEach, beforeEach } from 'vitest';

export interface OutputCapture {
  readonly lines: string[];
  /** Parsed JSON lines (log entries and EMF blobs) from line `from` on; other lines are skipped. */
  json(from?: number): Record<string, unknown>[];
  clear(): void;
}

export function captureOutput(options: { passThrough?: boolean } = {}): OutputCapture {
  const lines: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const make = (original: typeof process.stdout.write) =>
    function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      lines.push(...text.split('\n').filter((line) => line.trim() !== ''));
      if (options.passThrough)
        return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    } as typeof process.stdout.write;
  beforeEach(() => {
    process.stdout.write = make(originals.out);
    process.stderr.write = make(originals.err);
  });
  afterEach(() => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  });
  return {
    lines,
    json: (from = 0) =>
      lines.slice(from).flatMap((line) => {
        try {
          const parsed: unknown = JSON.parse(line);
          return parsed !== null && typeof parsed === 'object' ? [parsed as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      }),
    clear: () => {
      lines.length = 0;
    },
  };
}
