/**
 * Everything a child process prints, and its exit code: what the suites that run `npm start` or
 * `npm run` as a newcomer would look at.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Resolves when `child` exits, with all it wrote to stdout and stderr. */
export function outputUntilExit(child: ChildProcessByStdio<null, Readable, Readable>): Promise<ProcessRun> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => {
    stdout += data.toString('utf8');
  });
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString('utf8');
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
