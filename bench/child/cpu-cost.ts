/**
 * The CPU-cost child (`bench/lib/cpu-cost.ts` says what and why): bundled and run with plain `node`,
 * it times (CPU time) each case's subject and `JSON.parse` of the same bytes, every size once per round in a
 * rotating order, and prints one JSON line of milliseconds (`CpuCostSamples`) on stdout.
 */

import { exceedsJsonDepth } from '../../functions/core/domain/schemas.ts';
import { judgeUpstreamText } from '../../functions/core/domain/upstream-text.ts';
import {
  CPU_COST_CASES,
  type CpuCostCase,
  type CpuCostCaseSamples,
  type CpuCostSamples,
  DEPTH_LIMIT,
  judgeBody,
  judgeMessage,
  judgeSecrets,
  nestedArrays,
  quotedBrackets,
} from '../lib/cpu-cost.ts';

/** Rounds run and thrown away first, so the JIT has compiled both sides. */
const WARMUP_ROUNDS = 3;
const CLIENT_ID = 'sandbox-client-0001';

interface Sized {
  bytes: number;
  /** The measured call; throws if it gives a verdict the input should not get. */
  subject: () => void;
  baseline: () => void;
}

function expectVerdict(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}

function sized(name: CpuCostCase['name'], bytes: number): Sized {
  switch (name) {
    case 'depthScanQuoted': {
      const text = quotedBrackets(bytes);
      return {
        bytes: Buffer.byteLength(text),
        subject: () => expectVerdict(exceedsJsonDepth(text, DEPTH_LIMIT), false, 'quoted brackets'),
        baseline: () => JSON.parse(text),
      };
    }
    case 'depthScanNested': {
      const text = nestedArrays(bytes);
      return {
        bytes: Buffer.byteLength(text),
        subject: () => expectVerdict(exceedsJsonDepth(text, DEPTH_LIMIT), false, 'nesting at the limit'),
        baseline: () => JSON.parse(text),
      };
    }
    case 'upstreamJudge': {
      const message = judgeMessage(bytes);
      const body = judgeBody(message);
      const known = { secrets: judgeSecrets(), clientId: CLIENT_ID };
      return {
        bytes: Buffer.byteLength(message),
        subject: () =>
          expectVerdict(
            judgeUpstreamText({ message, validationError: message }, known).kind,
            'words',
            'judge',
          ),
        baseline: () => JSON.parse(body),
      };
    }
    default: {
      const unknown: never = name;
      throw new Error(`unknown case ${String(unknown)}`);
    }
  }
}

/**
 * The process's CPU time the call took (user + system, in ms), not wall time: on a shared machine a
 * wall-clock sample also counts the time the process waited for a core, and more so the longer it is.
 */
function timed(call: () => void): number {
  const started = process.cpuUsage();
  call();
  const spent = process.cpuUsage(started);
  return (spent.user + spent.system) / 1000;
}

function measure(definition: CpuCostCase): CpuCostCaseSamples {
  const inputs = definition.sizes.map((bytes) => sized(definition.name, bytes)) as [Sized, Sized];
  const calls = [
    { size: 0, side: 'subject' },
    { size: 1, side: 'subject' },
    { size: 0, side: 'baseline' },
    { size: 1, side: 'baseline' },
  ] as const;
  const samples: CpuCostCaseSamples = {
    name: definition.name,
    inputBytes: [inputs[0].bytes, inputs[1].bytes],
    subjectMs: [[], []],
    baselineMs: [[], []],
  };
  for (let round = 0; round < WARMUP_ROUNDS + definition.rounds; round += 1) {
    for (let i = 0; i < calls.length; i += 1) {
      const call = calls[(round + i) % calls.length] as (typeof calls)[number];
      const input = inputs[call.size];
      const ms = timed(call.side === 'subject' ? input.subject : input.baseline);
      if (round < WARMUP_ROUNDS) continue;
      (call.side === 'subject' ? samples.subjectMs : samples.baselineMs)[call.size].push(ms);
    }
  }
  return samples;
}

const result: CpuCostSamples = { cases: CPU_COST_CASES.map(measure) };
process.stdout.write(`${JSON.stringify(result)}\n`);
